import assert from "node:assert/strict";
import { formatLabels, formatValue, Registry } from "../../src/metrics/mod.ts";

Deno.test("Registry.render() writes HELP, TYPE and samples in the text format", () => {
  const registry = new Registry();
  const logins = registry.counter("app_logins_total", "Logins,\nby result.", ["result"]);
  logins.inc({ result: "ok" });
  logins.inc({ result: "ok" }, 2);
  logins.init({ result: "bad" });
  registry.gauge("app_open", "Open now.").set({}, -1);
  assert.equal(
    registry.render(),
    [
      "# HELP app_logins_total Logins,\\nby result.",
      "# TYPE app_logins_total counter",
      'app_logins_total{result="ok"} 3',
      'app_logins_total{result="bad"} 0',
      "# HELP app_open Open now.",
      "# TYPE app_open gauge",
      "app_open -1",
      "",
    ].join("\n"),
  );
});

Deno.test("Histogram writes cumulative buckets, +Inf, sum and count", () => {
  const registry = new Registry();
  const h = registry.histogram("app_seconds", "Time.", { bounds: [1, 0.1] });
  h.observe(0.05);
  h.observe(0.5);
  h.observe(3);
  assert.equal(
    registry.render(),
    [
      "# HELP app_seconds Time.",
      "# TYPE app_seconds histogram",
      'app_seconds_bucket{le="0.1"} 1',
      'app_seconds_bucket{le="1"} 2',
      'app_seconds_bucket{le="+Inf"} 3',
      "app_seconds_sum 3.55",
      "app_seconds_count 3",
      "",
    ].join("\n"),
  );
});

Deno.test("Gauge.collect() reads its values when rendered", () => {
  const registry = new Registry();
  let n = 1;
  registry.gauge("app_things", "Things.", ["state"]).collect(() => [
    { labels: { state: "a" }, value: n },
  ]);
  assert.match(registry.render(), /^app_things\{state="a"\} 1$/m);
  n = 7;
  assert.match(registry.render(), /^app_things\{state="a"\} 7$/m);
});

Deno.test("formatLabels() escapes backslash, quote and newline; formatValue() infinities", () => {
  assert.equal(formatLabels({ a: 'x"y\\z\nw' }), '{a="x\\"y\\\\z\\nw"}');
  assert.equal(formatLabels({}), "");
  assert.equal(formatValue(Infinity), "+Inf");
  assert.equal(formatValue(NaN), "NaN");
  assert.equal(formatValue(0.25), "0.25");
});

Deno.test("Registry refuses bad names, duplicates, a counter going down, wrong labels", () => {
  const registry = new Registry();
  assert.throws(() => registry.counter("bad-name", "x"), TypeError);
  assert.throws(() => registry.counter("ok_total", "x", ["__reserved"]), TypeError);
  const c = registry.counter("ok_total", "x", ["a"]);
  assert.throws(() => registry.gauge("ok_total", "x"), TypeError);
  assert.throws(() => c.inc({ a: "1" }, -1), RangeError);
  assert.throws(() => c.inc({ b: "1" }), TypeError);
  assert.throws(() => c.inc({ a: "1", b: "2" }), TypeError);
  assert.throws(() => registry.histogram("h", "x", { labelNames: ["le"] }), TypeError);
});
