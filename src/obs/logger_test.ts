import { createLogger, LOG_LEVELS, type LogFields, type LoggerOptions } from "./logger.ts";

function equal(actual: unknown, expected: unknown, context = ""): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${context} expected ${e}, got ${a}`);
}

/** A logger writing into an array, on a fixed clock. */
function capture(options: LoggerOptions = {}) {
  const lines: string[] = [];
  const logger = createLogger({
    now: () => new Date(Date.UTC(2025, 0, 2, 3, 4, 5, 6)),
    ...options,
    sink: (line) => lines.push(line),
  });
  const records = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines, records };
}

Deno.test("json lines carry ts, level, msg first, then fields, one per line", () => {
  const { logger, lines, records } = capture();
  logger.info("server started", { port: 8080, host: "127.0.0.1" });
  equal(lines, [
    '{"ts":"2025-01-02T03:04:05.006Z","level":"info","msg":"server started","port":8080,"host":"127.0.0.1"}\n',
  ]);
  equal(Object.keys(records()[0] ?? {}), ["ts", "level", "msg", "port", "host"]);
});

Deno.test("levels below the configured one are dropped", () => {
  for (const level of LOG_LEVELS) {
    const { logger, records } = capture({ level });
    logger.debug("d");
    logger.info("i");
    logger.warn("w");
    logger.error("e");
    const written = records().map((record) => record.level);
    equal(written, LOG_LEVELS.slice(LOG_LEVELS.indexOf(level)), level);
    equal(logger.level, level);
    equal(
      LOG_LEVELS.map((l) => logger.enabled(l)),
      LOG_LEVELS.map((l) => LOG_LEVELS.indexOf(l) >= LOG_LEVELS.indexOf(level)),
    );
  }
});

Deno.test("the default level is info and the default format json", () => {
  const { logger, records } = capture();
  logger.debug("hidden");
  logger.info("shown");
  equal(records().map((record) => record.msg), ["shown"]);
});

Deno.test("child binds fields; line fields override bound ones; children nest", () => {
  const { logger, records } = capture({ fields: { service: "akidb" } });
  const child = logger.child({ collection: "docs", op: "upsert" });
  const grandchild = child.child({ op: "search" });
  child.info("a", { op: "delete" });
  grandchild.warn("b");
  logger.info("c");
  equal(records().map(({ ts: _ts, ...rest }) => rest), [
    { level: "info", msg: "a", service: "akidb", collection: "docs", op: "delete" },
    { level: "warn", msg: "b", service: "akidb", collection: "docs", op: "search" },
    { level: "info", msg: "c", service: "akidb" },
  ]);
});

Deno.test("children keep the parent's level, format and sink", () => {
  const { logger, lines } = capture({ level: "warn", format: "text" });
  const child = logger.child({ a: 1 });
  child.info("dropped");
  child.warn("kept");
  equal(lines, ["2025-01-02T03:04:05.006Z WARN  kept a=1\n"]);
});

Deno.test("reserved names in fields cannot overwrite ts, level or msg", () => {
  const { records } = (() => {
    const c = capture();
    c.logger.info("real", { msg: "fake", level: "error", ts: 1 });
    return c;
  })();
  const [record] = records();
  equal(record, {
    ts: "2025-01-02T03:04:05.006Z",
    level: "info",
    msg: "real",
    "field.msg": "fake",
    "field.level": "error",
    "field.ts": 1,
  });
});

Deno.test("errors keep name, message, code, stack and cause", () => {
  const { logger, records } = capture();
  const cause = new RangeError("inner");
  const error = Object.assign(new Error("outer", { cause }), { code: "disk_full" });
  logger.error("write failed", { error });
  const logged = records()[0]?.error as Record<string, unknown>;
  equal(logged.name, "Error");
  equal(logged.message, "outer");
  equal(logged.code, "disk_full");
  equal(typeof logged.stack, "string");
  equal((logged.cause as Record<string, unknown>).message, "inner");
  equal((logged.cause as Record<string, unknown>).name, "RangeError");
});

Deno.test("unusual values never make a log call throw", () => {
  const { logger, records } = capture();
  const cyclic: Record<string, unknown> = { name: "loop" };
  cyclic.self = cyclic;
  const shared = { x: 1 };
  const selfCaused = new Error("again");
  (selfCaused as { cause?: unknown }).cause = selfCaused;
  const hostile = {
    toJSON() {
      throw new Error("nope");
    },
  };
  logger.info("odd", {
    big: 2n ** 70n,
    cyclic,
    twice: [shared, shared],
    selfCaused,
    hostile,
    skipped: undefined,
    date: new Date(0),
  });
  const [record] = records();
  equal(record?.big, "1180591620717411303424");
  equal(record?.cyclic, { name: "loop", self: "[Circular]" });
  equal(record?.twice, [{ x: 1 }, { x: 1 }]);
  equal((record?.selfCaused as Record<string, unknown>).cause, "[Circular]");
  equal(record?.hostile, "[unserializable: nope]");
  equal("skipped" in (record ?? {}), false);
  equal(record?.date, "1970-01-01T00:00:00.000Z");
});

Deno.test("a throwing sink does not reach the caller", () => {
  const logger = createLogger({
    sink: () => {
      throw new Error("sink down");
    },
  });
  logger.error("still fine");
});

Deno.test("text format: LEVEL padded, strings bare or quoted, other values as JSON", () => {
  const { logger, lines } = capture({ format: "text", level: "debug" });
  const fields: LogFields = {
    id: "a1",
    note: "two words",
    empty: "",
    n: 3,
    ok: true,
    obj: { k: [1] },
  };
  logger.debug("multi\nline", fields);
  equal(lines, [
    '2025-01-02T03:04:05.006Z DEBUG multi\\nline id=a1 note="two words" empty="" n=3 ok=true obj={"k":[1]}\n',
  ]);
});

Deno.test("the default sink writes whole lines to stderr, nothing to stdout", async () => {
  const moduleUrl = new URL("./logger.ts", import.meta.url).href;
  const script = `import { createLogger } from ${JSON.stringify(moduleUrl)};
    createLogger().info("to stderr", { big: "x".repeat(100000) });`;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-check", script],
    env: { RUST_BACKTRACE: "0", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  equal(output.code, 0);
  equal(output.stdout.length, 0);
  const line = new TextDecoder().decode(output.stderr);
  const record = JSON.parse(line) as Record<string, unknown>;
  equal([record.msg, (record.big as string).length, line.endsWith("}\n")], [
    "to stderr",
    100000,
    true,
  ]);
});
