/**
 * A TCP proxy on 127.0.0.1 in front of a server, whose behaviour a test
 * switches at runtime to simulate an outage:
 * - `pass`: forward both ways;
 * - `drop`: close every new connection at once (the client sees a reset/EOF);
 * - `stall`: accept new connections and never forward a byte;
 * - `reset`: close every open connection now and every new one at once.
 *
 * @module
 */

/** The proxy's behaviour. */
export type FaultMode = "pass" | "drop" | "stall" | "reset";

/** A running proxy. */
export interface TcpFaultProxy {
  /** The port it listens on. */
  readonly port: number;
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** The current mode. */
  readonly mode: FaultMode;
  /** Switches the mode; `reset` also closes every open connection. */
  setMode(mode: FaultMode): void;
  /** Connections accepted so far. */
  readonly acceptedCount: number;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

function closeQuietly(connection: Deno.Conn): void {
  try {
    connection.close();
  } catch {
    // already closed
  }
}

async function pipe(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(64 * 1024);
  try {
    for (;;) {
      const read = await from.read(buffer);
      if (read === null) break;
      let written = 0;
      while (written < read) written += await to.write(buffer.subarray(written, read));
    }
  } catch {
    // one side went away
  }
  closeQuietly(from);
  closeQuietly(to);
}

/**
 * Starts a proxy to `127.0.0.1:<targetPort>`.
 *
 * @param targetPort The server's port.
 * @returns The proxy, in `pass` mode.
 */
export function startTcpFaultProxy(targetPort: number): TcpFaultProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  const open = new Set<Deno.Conn>();
  let mode: FaultMode = "pass";
  let acceptedCount = 0;

  const handle = async (client: Deno.Conn) => {
    acceptedCount++;
    if (mode === "drop" || mode === "reset") {
      closeQuietly(client);
      return;
    }
    open.add(client);
    if (mode === "stall") return; // held open, never read or answered
    let server: Deno.Conn;
    try {
      server = await Deno.connect({ hostname: "127.0.0.1", port: targetPort });
    } catch {
      open.delete(client);
      closeQuietly(client);
      return;
    }
    open.add(server);
    await Promise.all([pipe(client, server), pipe(server, client)]);
    open.delete(client);
    open.delete(server);
  };

  const accepting = (async () => {
    try {
      for await (const client of listener) void handle(client);
    } catch {
      // listener closed
    }
  })();

  const closeAll = () => {
    for (const connection of open) closeQuietly(connection);
    open.clear();
  };

  return {
    port,
    endpoint: `http://127.0.0.1:${port}`,
    get mode() {
      return mode;
    },
    get acceptedCount() {
      return acceptedCount;
    },
    setMode(next: FaultMode) {
      mode = next;
      if (next === "reset") closeAll();
    },
    async close() {
      try {
        listener.close();
      } catch {
        // already closed
      }
      closeAll();
      await accepting;
    },
  };
}
