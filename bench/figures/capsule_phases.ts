/**
 * Where capsule's time goes: phases of each session, read from the
 * timestamps of capsule's own log records (millisecond resolution).
 */
import type { LogRecord } from "../capsule_server.ts";

/** Phases, each between two log events of one connection. */
export const PHASES: readonly { name: string; from: string; to: string }[] = [
  {
    name: "TCP accept → login accepted (key exchange, auth)",
    from: "connection.open",
    to: "auth.accepted",
  },
  { name: "login accepted → session request", from: "auth.accepted", to: "session.start" },
  {
    name: "session request → process started in its container",
    from: "session.start",
    to: "container.start",
  },
  {
    name: "process started → session ended (run, exit status)",
    from: "container.start",
    to: "session.end",
  },
  { name: "session ended → connection closed", from: "session.end", to: "connection.close" },
  {
    name: "session ended → container removed (in the background)",
    from: "session.end",
    to: "container.remove",
  },
];

/** Milliseconds of each phase, one sample per connection that has both events. */
export function capsulePhases(records: readonly LogRecord[]): Record<string, number[]> {
  const byConnection = new Map<string, Map<string, number>>();
  for (const record of records) {
    const connection = record.connection;
    const event = record.event;
    const ts = typeof record.ts === "string" ? Date.parse(record.ts) : Number.NaN;
    if (typeof connection !== "string" || typeof event !== "string" || Number.isNaN(ts)) continue;
    let events = byConnection.get(connection);
    if (!events) byConnection.set(connection, events = new Map());
    // The first occurrence of each event: one session per connection here.
    if (!events.has(event)) events.set(event, ts);
  }
  const phases: Record<string, number[]> = {};
  for (const phase of PHASES) {
    const samples: number[] = [];
    for (const events of byConnection.values()) {
      const from = events.get(phase.from);
      const to = events.get(phase.to);
      if (from !== undefined && to !== undefined) samples.push(to - from);
    }
    if (samples.length > 0) phases[phase.name] = samples;
  }
  return phases;
}

/** How many sessions started in each kind of container (`session`: fresh, `pool`: warm). */
export function containerModes(records: readonly LogRecord[]): Record<string, number> {
  const modes: Record<string, number> = {};
  for (const record of records) {
    if (record.event !== "container.start") continue;
    const mode = typeof record.mode === "string" ? record.mode : "unknown";
    modes[mode] = (modes[mode] ?? 0) + 1;
  }
  return modes;
}
