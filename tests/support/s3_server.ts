/**
 * A real S3 protocol server for tests: npm `s3rver` started under Node on
 * 127.0.0.1, a free port and a temporary directory, with one bucket created;
 * stopped by its pid. When `AKIDB_TEST_S3_ENDPOINT` is set (with
 * `AKIDB_TEST_S3_ACCESS_KEY_ID`, `AKIDB_TEST_S3_SECRET_ACCESS_KEY` and
 * `AKIDB_TEST_S3_BUCKET`), that server (MinIO) is used instead and nothing is
 * started.
 *
 * @module
 */

/** A running S3 server. */
export interface TestS3Server {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** The bucket the tests use. */
  readonly bucket: string;
  /** Its access key id (`S3RVER` for s3rver). */
  readonly accessKeyId: string;
  /** Its secret key (`S3RVER` for s3rver). */
  readonly secretAccessKey: string;
  /** The host port, for a proxy in front of it. */
  readonly port: number;
  /** The pid of the server process, or undefined for an external server. */
  readonly pid: number | undefined;
  /** Stops the server (kills it by pid) and removes its directory. */
  stop(): Promise<void>;
}

/** How long a started server may take to accept connections. */
const STARTUP_TIMEOUT_MS = 15_000;

/**
 * Finds a free TCP port on 127.0.0.1 by binding port 0 and releasing it.
 *
 * @returns The port.
 */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

async function waitForPort(port: number, child: Deno.ChildProcess): Promise<void> {
  const deadline = performance.now() + STARTUP_TIMEOUT_MS;
  let exited = false;
  child.status.then(() => exited = true);
  while (performance.now() < deadline) {
    if (exited) throw new Error(`Cannot start s3rver on port ${port}: the process exited`);
    try {
      const connection = await Deno.connect({ hostname: "127.0.0.1", port });
      connection.close();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(
    `Cannot start s3rver on port ${port}: not listening after ${STARTUP_TIMEOUT_MS} ms`,
  );
}

function externalServer(endpoint: string): TestS3Server {
  const need = (name: string): string => {
    const value = Deno.env.get(name);
    if (value === undefined || value === "") {
      throw new TypeError(`Cannot use AKIDB_TEST_S3_ENDPOINT: ${name} is not set`);
    }
    return value;
  };
  const url = new URL(endpoint);
  return {
    endpoint,
    bucket: need("AKIDB_TEST_S3_BUCKET"),
    accessKeyId: need("AKIDB_TEST_S3_ACCESS_KEY_ID"),
    secretAccessKey: need("AKIDB_TEST_S3_SECRET_ACCESS_KEY"),
    port: Number(url.port || (url.protocol === "https:" ? 443 : 80)),
    pid: undefined,
    stop: () => Promise.resolve(),
  };
}

/**
 * Starts s3rver (or returns the external server named by the environment).
 *
 * @param bucket The bucket to create. Default `akidb-test`.
 * @returns The running server.
 * @throws Error when it does not start in time.
 */
export async function startS3Server(bucket = "akidb-test"): Promise<TestS3Server> {
  const external = Deno.env.get("AKIDB_TEST_S3_ENDPOINT");
  if (external !== undefined && external !== "") return externalServer(external);
  const directory = await Deno.makeTempDir({ prefix: "akidb-s3rver-" });
  const port = freePort();
  const script = new URL("../../node_modules/s3rver/bin/s3rver.js", import.meta.url).pathname;
  const child = new Deno.Command("node", {
    args: [script, "-d", directory, "-a", "127.0.0.1", "-p", String(port), "--silent"]
      .concat(["--configure-bucket", bucket]),
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const { pid } = child;
  const stop = async () => {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
    await child.status;
    await Deno.remove(directory, { recursive: true }).catch(() => {});
  };
  try {
    await waitForPort(port, child);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    accessKeyId: "S3RVER",
    secretAccessKey: "S3RVER",
    port,
    pid,
    stop,
  };
}
