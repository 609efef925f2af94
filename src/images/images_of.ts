import { type Config, type PullPolicy, resolveContainer } from "../config/mod.ts";

/** An image a config names, and how eagerly it wants it. */
export interface NamedImage {
  image: string;
  policy: PullPolicy;
}

/**
 * The images a config names (the global one and each user's), each once: the
 * most eager policy of the profiles that use it wins (`always` over
 * `if-not-present` over `never`).
 */
export function imagesOf(config: Config): NamedImage[] {
  const rank: Record<PullPolicy, number> = { never: 0, "if-not-present": 1, always: 2 };
  const found = new Map<string, PullPolicy>();
  for (const user of [undefined, ...Object.keys(config.users)]) {
    const { image, pull } = resolveContainer(config, user);
    const known = found.get(image);
    if (known === undefined || rank[pull] > rank[known]) found.set(image, pull);
  }
  return [...found].map(([image, policy]) => ({ image, policy }));
}
