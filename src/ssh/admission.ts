import type { MaxStartups } from "../config/mod.ts";
import type { PenaltyConfig } from "../config/types.ts";

/** Why a new connection was refused. */
export type RefusalReason = "penalty" | "per-source" | "max-startups";

/** What can happen to a source that earns it a penalty. */
export type PenaltyEvent = "authFail" | "noAuth" | "loginTimeout";

/** Options of {@linkcode Admission}. */
export interface AdmissionOptions {
  maxStartups: MaxStartups;
  maxStartupsPerSource: number;
  penalties: PenaltyConfig;
  /** Milliseconds now; injectable for tests. */
  now?: () => number;
  /** A number in [0, 1); injectable for tests. */
  random?: () => number;
}

/** Most sources remembered for penalties; the oldest are forgotten first. */
const MAX_TRACKED_SOURCES = 65_536;

/**
 * The source a connection is counted against: an IPv4 address, or the /64
 * of an IPv6 address (one host usually owns a whole /64).
 */
export function sourceOf(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!address.includes(":")) return address;
  const [head = "", tail = ""] = address.split("::");
  const groups = head === "" ? [] : head.split(":");
  const tailGroups = tail === "" ? [] : tail.split(":");
  const full = [
    ...groups,
    ...Array(8 - groups.length - tailGroups.length).fill("0"),
    ...tailGroups,
  ];
  return full.slice(0, 4).map((g) => g.toLowerCase().replace(/^0+(?=.)/, "")).join(":") + "::/64";
}

/**
 * Admission control before the SSH handshake, modelled on OpenSSH: a cap on
 * unauthenticated connections with random early drop (`MaxStartups`), a cap
 * per source (`PerSourceMaxStartups`), and penalties per source that grow
 * with bad behaviour and decay in real time (`PerSourcePenalties`).
 */
export class Admission {
  readonly #options: AdmissionOptions;
  readonly #now: () => number;
  readonly #random: () => number;
  /** Unauthenticated connections per source. */
  readonly #pending = new Map<string, number>();
  #pendingTotal = 0;
  /** Penalty expiry (ms) per source. */
  readonly #penalties = new Map<string, number>();

  /** @param options caps and penalty settings */
  constructor(options: AdmissionOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
  }

  /** Unauthenticated connections held now. */
  get pending(): number {
    return this.#pendingTotal;
  }

  /**
   * Decides on a new connection from `source`. When admitted it counts as
   * unauthenticated until {@linkcode authenticated} or {@linkcode closed}.
   *
   * @returns `undefined` when admitted, else why not
   */
  admit(source: string): RefusalReason | undefined {
    if (this.penaltyOf(source) > this.#options.penalties.min * 1000) return "penalty";
    if ((this.#pending.get(source) ?? 0) >= this.#options.maxStartupsPerSource) return "per-source";
    const { start, rate, full } = this.#options.maxStartups;
    const held = this.#pendingTotal;
    if (held >= full) return "max-startups";
    if (held >= start) {
      const chance = rate + (100 - rate) * (held - start) / Math.max(1, full - start);
      if (this.#random() * 100 < chance) return "max-startups";
    }
    this.#pending.set(source, (this.#pending.get(source) ?? 0) + 1);
    this.#pendingTotal++;
    return undefined;
  }

  /** An admitted connection from `source` authenticated: it no longer counts as pending. */
  authenticated(source: string): void {
    this.#release(source);
  }

  /** An admitted connection closed before authenticating. */
  closed(source: string): void {
    this.#release(source);
  }

  /** Adds the event's penalty to `source`. */
  penalize(source: string, event: PenaltyEvent): void {
    const { enabled, max } = this.#options.penalties;
    const seconds = this.#options.penalties[event];
    if (!enabled || seconds <= 0) return;
    const now = this.#now();
    const remaining = Math.max(0, (this.#penalties.get(source) ?? 0) - now);
    this.#penalties.delete(source);
    if (this.#penalties.size >= MAX_TRACKED_SOURCES) {
      const oldest = this.#penalties.keys().next().value;
      if (oldest !== undefined) this.#penalties.delete(oldest);
    }
    this.#penalties.set(source, now + Math.min(max * 1000, remaining + seconds * 1000));
  }

  /** Milliseconds of penalty `source` has left. */
  penaltyOf(source: string): number {
    if (!this.#options.penalties.enabled) return 0;
    const expiry = this.#penalties.get(source);
    if (expiry === undefined) return 0;
    const left = expiry - this.#now();
    if (left <= 0) this.#penalties.delete(source);
    return Math.max(0, left);
  }

  #release(source: string): void {
    const count = this.#pending.get(source) ?? 0;
    if (count <= 0) return;
    if (count === 1) this.#pending.delete(source);
    else this.#pending.set(source, count - 1);
    this.#pendingTotal--;
  }
}
