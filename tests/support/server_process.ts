/**
 * Spawns the real server (`deno run -A src/main.ts serve`) as a child
 * process on 127.0.0.1 with a temporary data directory, waits for `/ready`,
 * and stops it by its own pid. Reusable by crash tests: `kill("SIGKILL")`
 * and a new `startServer({ dataDir })` on the same directory.
 *
 * @module
 */

import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DENO = `${ROOT}node_modules/.bin/deno`;

/** How to start the server. */
export interface StartServerOptions {
  /** Data directory; a fresh temporary one (removed by `stop`) when omitted. */
  readonly dataDir?: string;
  /** Extra command-line flags, e.g. `["--api-keys", "…"]`. */
  readonly flags?: readonly string[];
  /** Extra environment variables. */
  readonly env?: Readonly<Record<string, string>>;
  /** How long to wait for `/ready`. Default 30 s. */
  readonly readyTimeoutMs?: number;
}

/** A running server child process. */
export interface ServerProcess {
  /** `http://127.0.0.1:<port>`. */
  readonly baseUrl: string;
  readonly port: number;
  readonly pid: number;
  readonly dataDir: string;
  /** Everything the server wrote to stderr (its log) so far. */
  log(): string;
  /** Sends a signal to this process (by its pid). */
  kill(signal: Deno.Signal): void;
  /** Resolves with the exit status once the process has exited. */
  readonly exited: Promise<Deno.CommandStatus>;
  /**
   * Sends SIGTERM (unless one was sent already) and waits up to `timeoutMs`
   * for the exit; SIGKILLs it after that. Removes a temporary data directory.
   */
  stop(
    timeoutMs?: number,
  ): Promise<{ status: Deno.CommandStatus; elapsedMs: number; killed: boolean }>;
}

/**
 * A TCP port that was free a moment ago (bound to 127.0.0.1:0, then released).
 *
 * @returns The port.
 */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/**
 * Starts the server and waits until `/ready` answers 200.
 *
 * @param options Data directory, flags, environment, ready timeout.
 * @returns The running server.
 * @throws {Error} When it exits or is not ready in time (the process is killed first; the log is in the message).
 */
export async function startServer(options: StartServerOptions = {}): Promise<ServerProcess> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? await Deno.makeTempDir({ prefix: "akidb-server-" });
  const port = freePort();
  const child = new Deno.Command(DENO, {
    args: [
      "run",
      "-A",
      `${ROOT}src/main.ts`,
      "serve",
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--data-dir",
      dataDir,
      ...(options.flags ?? []),
    ],
    cwd: ROOT,
    env: { RUST_BACKTRACE: "0", NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let log = "";
  const logDone = child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({ write: (chunk) => void (log += chunk) }),
  ).catch(() => {});
  const exited = child.status.then(async (status) => {
    await logDone;
    return status;
  });
  let hasExited = false;
  void exited.then(() => hasExited = true);
  const baseUrl = `http://127.0.0.1:${port}`;
  let terminated = false;
  const kill = (signal: Deno.Signal) => {
    if (hasExited) return;
    if (signal === "SIGTERM") terminated = true;
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  };
  const server: ServerProcess = {
    baseUrl,
    port,
    pid: child.pid,
    dataDir,
    log: () => log,
    kill,
    exited,
    async stop(timeoutMs = 15_000) {
      const startMs = performance.now();
      // A second SIGTERM would cut a graceful shutdown short (the server exits 1 on it).
      if (!terminated) kill("SIGTERM");
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timedOut = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), timeoutMs);
      });
      const first = await Promise.race([exited, timedOut]);
      clearTimeout(timer);
      const killed = first === "timeout";
      if (killed) kill("SIGKILL");
      const status = await exited;
      const elapsedMs = performance.now() - startMs;
      if (ownDir) await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      return { status, elapsedMs, killed };
    },
  };
  try {
    await waitReady(baseUrl, options.readyTimeoutMs ?? 30_000, () => hasExited);
  } catch (error) {
    await server.stop(2_000);
    throw new Error(`${(error as Error).message}; server log:\n${log}`);
  }
  return server;
}

async function waitReady(baseUrl: string, timeoutMs: number, exited: () => boolean): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (exited()) throw new Error("Cannot start the server: it exited before /ready");
    try {
      const response = await fetch(`${baseUrl}/ready`);
      await response.body?.cancel();
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`Cannot start the server: /ready not 200 within ${timeoutMs} ms`);
}
