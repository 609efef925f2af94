/** Label names to values of one series. */
export type Labels = Readonly<Record<string, string>>;

/** The kinds of metric the exposition format knows that capsule uses. */
export type MetricType = "counter" | "gauge" | "histogram";

/** Seconds: from 5 ms to 30 s, for logins, set-ups and container starts. */
export const SECONDS_BUCKETS: readonly number[] = [
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
];

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** One metric family: its name, help and samples in the text format. */
interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  /** The sample lines, without the HELP and TYPE lines. */
  lines(): string[];
}

/** A value as the text format writes it. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/** `{a="1",b="2"}` with backslash, quote and newline escaped; empty for no labels. */
export function formatLabels(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return "";
  const escaped = entries.map(([key, value]) =>
    `${key}="${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`
  );
  return `{${escaped.join(",")}}`;
}

function escapeHelp(help: string): string {
  return help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/** Series by their labels, in the order they first appeared. */
class Series<T> {
  readonly #byKey = new Map<string, { labels: Labels; value: T }>();
  readonly #labelNames: readonly string[];
  readonly #initial: () => T;

  constructor(labelNames: readonly string[], initial: () => T) {
    this.#labelNames = labelNames;
    this.#initial = initial;
  }

  get(labels: Labels): { labels: Labels; value: T } {
    const ordered: Record<string, string> = {};
    for (const name of this.#labelNames) {
      const value = labels[name];
      if (value === undefined) throw new TypeError(`Label "${name}" is missing`);
      ordered[name] = value;
    }
    if (Object.keys(labels).length !== this.#labelNames.length) {
      throw new TypeError(`Labels must be exactly ${JSON.stringify(this.#labelNames)}`);
    }
    const key = JSON.stringify(ordered);
    let entry = this.#byKey.get(key);
    if (!entry) {
      entry = { labels: ordered, value: this.#initial() };
      this.#byKey.set(key, entry);
    }
    return entry;
  }

  all(): { labels: Labels; value: T }[] {
    return [...this.#byKey.values()];
  }
}

/** A value that only goes up (reset by a restart), by labels. */
export class Counter implements Family {
  readonly type = "counter";
  readonly #series: Series<number>;

  /** Use {@linkcode Registry.counter}. */
  constructor(readonly name: string, readonly help: string, labelNames: readonly string[]) {
    this.#series = new Series(labelNames, () => 0);
  }

  /** Adds `by` (default 1) to the series of `labels`. */
  inc(labels: Labels = {}, by = 1): void {
    if (by < 0) throw new RangeError(`A counter cannot go down: got ${by}`);
    this.#series.get(labels).value += by;
  }

  /** Makes the series of `labels` appear (at 0) before anything happened. */
  init(labels: Labels = {}): void {
    this.#series.get(labels);
  }

  lines(): string[] {
    return this.#series.all().map((s) =>
      `${this.name}${formatLabels(s.labels)} ${formatValue(s.value)}`
    );
  }
}

/** A value that goes up and down, by labels, set as things happen or read when scraped. */
export class Gauge implements Family {
  readonly type = "gauge";
  readonly #series: Series<number>;
  #collect: (() => { labels: Labels; value: number }[]) | undefined;

  /** Use {@linkcode Registry.gauge}. */
  constructor(readonly name: string, readonly help: string, labelNames: readonly string[]) {
    this.#series = new Series(labelNames, () => 0);
  }

  /** Sets the series of `labels`. */
  set(labels: Labels, value: number): void {
    this.#series.get(labels).value = value;
  }

  /** Adds `by` (may be negative) to the series of `labels`. */
  add(labels: Labels, by: number): void {
    this.#series.get(labels).value += by;
  }

  /** Reads the values when scraped instead (e.g. counts kept elsewhere). */
  collect(read: () => { labels: Labels; value: number }[]): void {
    this.#collect = read;
  }

  lines(): string[] {
    if (this.#collect) { for (const { labels, value } of this.#collect()) this.set(labels, value); }
    return this.#series.all().map((s) =>
      `${this.name}${formatLabels(s.labels)} ${formatValue(s.value)}`
    );
  }
}

interface Buckets {
  counts: number[];
  sum: number;
  count: number;
}

/** Observations counted into buckets (cumulative in the output), with their sum and count. */
export class Histogram implements Family {
  readonly type = "histogram";
  readonly #bounds: readonly number[];
  readonly #series: Series<Buckets>;

  /** Use {@linkcode Registry.histogram}. */
  constructor(
    readonly name: string,
    readonly help: string,
    labelNames: readonly string[],
    bounds: readonly number[],
  ) {
    if (labelNames.includes("le")) throw new TypeError(`"le" is reserved for histogram buckets`);
    this.#bounds = [...bounds].sort((a, b) => a - b);
    this.#series = new Series(labelNames, () => ({
      counts: this.#bounds.map(() => 0),
      sum: 0,
      count: 0,
    }));
  }

  /** Counts one observation (e.g. seconds) in the series of `labels`. */
  observe(value: number, labels: Labels = {}): void {
    const buckets = this.#series.get(labels).value;
    const index = this.#bounds.findIndex((bound) => value <= bound);
    if (index >= 0) buckets.counts[index]! += 1;
    buckets.sum += value;
    buckets.count += 1;
  }

  /** Makes the series of `labels` appear (empty) before anything was observed. */
  init(labels: Labels = {}): void {
    this.#series.get(labels);
  }

  lines(): string[] {
    return this.#series.all().flatMap(({ labels, value }) => {
      let cumulative = 0;
      const lines = this.#bounds.map((bound, i) => {
        cumulative += value.counts[i]!;
        const le = formatLabels({ ...labels, le: formatValue(bound) });
        return `${this.name}_bucket${le} ${cumulative}`;
      });
      lines.push(`${this.name}_bucket${formatLabels({ ...labels, le: "+Inf" })} ${value.count}`);
      lines.push(`${this.name}_sum${formatLabels(labels)} ${formatValue(value.sum)}`);
      lines.push(`${this.name}_count${formatLabels(labels)} ${value.count}`);
      return lines;
    });
  }
}

/**
 * The metrics of a process, written in Prometheus' text exposition format
 * (version 0.0.4) by {@linkcode Registry.render}.
 *
 * @example
 * ```ts
 * const registry = new Registry();
 * const logins = registry.counter("app_logins_total", "Logins.", ["result"]);
 * logins.inc({ result: "ok" });
 * registry.render(); // "# HELP app_logins_total Logins.\n# TYPE app_logins_total counter\n..."
 * ```
 */
export class Registry {
  readonly #families = new Map<string, Family>();

  /** A counter; its name should end in `_total`. */
  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.#add(new Counter(name, help, labelNames), labelNames);
  }

  /** A gauge. */
  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.#add(new Gauge(name, help, labelNames), labelNames);
  }

  /** A histogram over `bounds` (upper bounds; `+Inf` is added). */
  histogram(
    name: string,
    help: string,
    options: { labelNames?: readonly string[]; bounds?: readonly number[] } = {},
  ): Histogram {
    const labelNames = options.labelNames ?? [];
    return this.#add(
      new Histogram(name, help, labelNames, options.bounds ?? SECONDS_BUCKETS),
      labelNames,
    );
  }

  /** Every family: HELP, TYPE, then its samples; ends with a newline. */
  render(): string {
    const out: string[] = [];
    for (const family of this.#families.values()) {
      out.push(`# HELP ${family.name} ${escapeHelp(family.help)}`);
      out.push(`# TYPE ${family.name} ${family.type}`);
      out.push(...family.lines());
    }
    return out.join("\n") + "\n";
  }

  #add<T extends Family>(family: T, labelNames: readonly string[]): T {
    if (!NAME.test(family.name)) throw new TypeError(`Invalid metric name "${family.name}"`);
    for (const label of labelNames) {
      if (!LABEL.test(label) || label.startsWith("__")) {
        throw new TypeError(`Invalid label name "${label}"`);
      }
    }
    if (this.#families.has(family.name)) {
      throw new TypeError(`Metric "${family.name}" is already registered`);
    }
    this.#families.set(family.name, family);
    return family;
  }
}
