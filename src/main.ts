/**
 * The `akidb` command: `akidb [serve|healthcheck|snapshot|restore|--version|--help] [flags]`
 * (`serve` is the default; the others are HTTP clients of a running server, see
 * `cli/http_commands.ts`). `serve` listens first and then opens the engine, so `/health`
 * answers and `/ready` reports 503 while collections recover. SIGTERM or
 * SIGINT stop it gracefully: stop accepting, let requests in flight finish,
 * close the engine (flush + fsync), exit 0 — or exit 1 when that takes longer
 * than `server.shutdown_timeout_ms`.
 *
 * Exit codes: 0 success, 1 runtime failure or slow shutdown, 2 usage or configuration error.
 *
 * @module
 */

import packageJson from "../package.json" with { type: "json" };
import { createApp, createDeferredEngine } from "./api/mod.ts";
import { ParsePool } from "./api/parse_pool.ts";
import { RequestDrain } from "./api/request_drain.ts";
import { CLIENT_COMMANDS, CLIENT_USAGE, runClientCommand } from "./cli/http_commands.ts";
import {
  type Config,
  ConfigError,
  loadConfigFromProcess,
  renderHelp,
  wantsHelp,
} from "./config/mod.ts";
import type { Engine } from "./engine/engine_types.ts";
import { createEngine } from "./engine/mod.ts";
import { engineMetricsSource, instrumentEngine } from "./engine/instrumented_engine.ts";
import { loadKernel } from "./kernel/mod.ts";
import { createLogger, type Logger } from "./obs/logger.ts";
import { createMetrics, type Metrics } from "./obs/metrics.ts";
import {
  objectStoreObserver,
  snapshotObserver,
  tierObserver,
  walObserver,
} from "./obs/observers.ts";
import { configureTracing, samplerWarning, tracingExported } from "./obs/tracing.ts";

/** AkiDB's version, from `package.json`. */
export const VERSION: string = packageJson.version;

const USAGE = `Usage: akidb [serve] [flags]
       akidb healthcheck | snapshot <collection> | restore <collection> [<snapshot_id>]
       akidb --version
       akidb --help

Commands:
  serve                  Serve the HTTP API (the default)
${CLIENT_USAGE}
`;

const SIGNALS: readonly Deno.Signal[] = ["SIGTERM", "SIGINT"];

/**
 * Runs the command line.
 *
 * @param args The arguments after the program name.
 * @returns The exit code.
 */
export async function main(args: readonly string[]): Promise<number> {
  const [first, ...rest] = args;
  if (first === "--version" || first === "-V") {
    writeOut(`akidb ${VERSION}\n`);
    return 0;
  }
  const command = first === undefined || first.startsWith("-") ? "serve" : first;
  const flags = command === first ? rest : args;
  if (command === "help" || wantsHelp(flags)) {
    writeOut(USAGE + renderHelp());
    return 0;
  }
  if (CLIENT_COMMANDS.includes(command)) {
    return await runClientCommand(command, flags, writeOut, writeErr);
  }
  if (command !== "serve") {
    writeErr(
      `Cannot run akidb: unknown command "${command}", expected serve or ` +
        `${CLIENT_COMMANDS.join(", ")} (see akidb --help)\n`,
    );
    return 2;
  }
  let config: Config;
  try {
    config = loadConfigFromProcess(flags);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    writeErr(`${error.message}\n`);
    return 2;
  }
  return await serve(config);
}

/**
 * Serves the API until SIGTERM or SIGINT.
 *
 * @param config The loaded configuration.
 * @returns The exit code: 0 after a clean shutdown, 1 on failure or timeout.
 */
async function serve(config: Config): Promise<number> {
  const logger = createLogger({ level: config.log.level, format: config.log.format });
  for (const warning of config.warnings) logger.warn("config warning", { warning });
  configureTracing(config.tracing, VERSION);
  if (config.tracing.enabled && !tracingExported()) {
    logger.warn("tracing.enabled is set but spans are not exported: start with OTEL_DENO=true", {
      OTEL_EXPORTER_OTLP_ENDPOINT: config.tracing.otlpEndpoint,
    });
  }
  const sampler = samplerWarning();
  if (sampler !== undefined) logger.warn(sampler);
  const metrics = createMetrics();
  const deferred = createDeferredEngine();
  const engine = instrumentEngine(deferred.engine, metrics);
  const workers = config.server.parseWorkers;
  const parsePool = workers > 0 ? new ParsePool({ workers }) : undefined;
  const app = createApp({ engine, config, logger, version: VERSION, metrics, parsePool });
  const stop = stopSignal(logger);
  const drain = new RequestDrain();
  let server: Deno.HttpServer;
  try {
    server = Deno.serve({
      hostname: config.server.host,
      port: config.server.port,
      onListen: ({ hostname, port }) =>
        logger.info("listening", { hostname, port, version: VERSION, pid: Deno.pid }),
    }, drain.wrap(app.fetch));
  } catch (error) {
    logger.error("cannot listen", { host: config.server.host, port: config.server.port, error });
    parsePool?.close();
    stop.dispose();
    return 1;
  }
  const opening = openEngine(config, logger, metrics).then((engine) => {
    deferred.resolve(engine);
    return engine;
  });
  const outcome = await Promise.race([
    stop.requested.then(() => "stop" as const),
    opening.then(() => "open" as const, () => "failed" as const),
  ]);
  if (outcome === "open") await stop.requested;
  const failed = outcome === "failed";
  if (failed) logger.error("cannot start the engine", { error: await opening.catch((e) => e) });
  logger.info("shutting down", { timeout_ms: config.server.shutdownTimeoutMs });
  const clean = await withTimeout(
    shutdown(server, drain, opening, logger).finally(() => parsePool?.close()).catch((error) => {
      logger.error("shutdown failed", { error });
      throw error;
    }),
    config.server.shutdownTimeoutMs,
  );
  stop.dispose();
  if (!clean) logger.error("shutdown timed out", { timeout_ms: config.server.shutdownTimeoutMs });
  else logger.info("stopped");
  return clean && !failed ? 0 : 1;
}

async function openEngine(config: Config, logger: Logger, metrics: Metrics): Promise<Engine> {
  const kernel = await loadKernel();
  const engine = await createEngine({
    config,
    kernel,
    logger,
    awaitRecovery: false,
    walObserver: walObserver(metrics),
    objectStoreObserver: objectStoreObserver(metrics),
    tierObserver: tierObserver(metrics),
    snapshotObserver: snapshotObserver(metrics),
  });
  metrics.bindSource(engineMetricsSource(engine, config));
  logger.info("engine opened", { data_dir: config.storage.dataDir });
  return engine;
}

/** Refuses new requests, waits for those in flight, stops listening, then closes the engine. */
async function shutdown(
  server: Deno.HttpServer,
  drain: RequestDrain,
  opening: Promise<Engine>,
  logger: Logger,
): Promise<void> {
  await drain.close();
  await server.shutdown();
  let engine: Engine;
  try {
    engine = await opening;
  } catch {
    return; // never opened: nothing to close
  }
  await engine.close();
  logger.info("engine closed");
}

/** A promise that resolves on the first SIGTERM/SIGINT; a second one exits at once with 1. */
function stopSignal(logger: Logger): { requested: Promise<void>; dispose(): void } {
  let stopping = false;
  const { promise, resolve } = Promise.withResolvers<void>();
  const handler = (signal: Deno.Signal) => () => {
    if (stopping) {
      logger.error("second signal during shutdown: exiting now", { signal });
      Deno.exit(1);
    }
    stopping = true;
    logger.info("signal received", { signal });
    resolve();
  };
  const handlers = SIGNALS.map((signal) => [signal, handler(signal)] as const);
  for (const [signal, listener] of handlers) Deno.addSignalListener(signal, listener);
  return {
    requested: promise,
    dispose() {
      for (const [signal, listener] of handlers) Deno.removeSignalListener(signal, listener);
    },
  };
}

/** Resolves true when `work` settles within `timeoutMs`, false otherwise (or when it rejects). */
async function withTimeout(work: Promise<void>, timeoutMs: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([work.then(() => true, () => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function writeOut(text: string): void {
  Deno.stdout.writeSync(new TextEncoder().encode(text));
}

function writeErr(text: string): void {
  Deno.stderr.writeSync(new TextEncoder().encode(text));
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
