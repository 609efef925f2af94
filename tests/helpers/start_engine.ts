/** Starts a test engine by kind (see `test_engine.ts`). */
import { startPodmanService } from "./podman_service.ts";
import { type EngineKind, loadImages, type TestEngine } from "./test_engine.ts";
import { startTlsDockerd } from "./tls_dockerd.ts";

/**
 * Starts an engine of `kind` with `images` copied into it from the machine's
 * engine. `docker` is the machine's engine itself: nothing starts or stops.
 */
export async function startEngine(kind: EngineKind, images: string[]): Promise<TestEngine> {
  if (kind === "docker") {
    return {
      kind,
      env: {},
      docker: { host: "" },
      log: () => Promise.resolve(""),
      stop: async () => {},
    };
  }
  const engine = kind === "podman" ? await startPodmanService() : await startTlsDockerd();
  try {
    await loadImages(engine, images);
  } catch (error) {
    await engine.stop();
    throw error;
  }
  return engine;
}
