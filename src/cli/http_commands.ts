/**
 * The `akidb` subcommands that are thin HTTP clients of a running server:
 * `healthcheck` (for container HEALTHCHECKs, no curl needed), `snapshot` and
 * `restore`. The server's address and API key come from `--url` and
 * `--api-key`, or else from the same configuration `serve` would load
 * (file, `AKIDB_*`, flags), so `akidb healthcheck` inside the container
 * finds the server the way it was configured.
 *
 * @module
 */

import { type Config, loadConfigFromProcess } from "../config/mod.ts";

/** The client subcommands. */
export const CLIENT_COMMANDS: readonly string[] = ["healthcheck", "snapshot", "restore"];

/** Usage lines of the client subcommands, for `akidb --help`. */
export const CLIENT_USAGE =
  `  healthcheck            GET /health of a running server; exit 0 when it says ok
  snapshot <collection>  Create a snapshot of a collection on a running server
  restore <collection> [<snapshot_id>|latest]
                         Restore a collection on a running server (default latest)
  Client flags: --url <http://host:port> --api-key <key>; without them the server's
  own configuration (--config, AKIDB_*, --host/--port, --api-keys) is used.
`;

interface Target {
  readonly baseUrl: string;
  readonly apiKey: string | undefined;
}

/** Splits `--url`/`--api-key` from the arguments; the rest go to the config loader. */
function splitClientFlags(args: readonly string[]): {
  url?: string;
  apiKey?: string;
  positional: string[];
  rest: string[];
} {
  const out: { url?: string; apiKey?: string; positional: string[]; rest: string[] } = {
    positional: [],
    rest: [],
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const [name, inline] = arg.split("=", 2) as [string, string | undefined];
    if (name === "--url" || name === "--api-key") {
      const value = inline ?? args[++i];
      if (value === undefined) throw new TypeError(`Cannot run akidb: ${name} needs a value`);
      if (name === "--url") out.url = value;
      else out.apiKey = value;
    } else if (arg.startsWith("-")) {
      out.rest.push(arg);
      if (inline === undefined && args[i + 1] !== undefined && !args[i + 1]!.startsWith("-")) {
        out.rest.push(args[++i]!);
      }
    } else out.positional.push(arg);
  }
  return out;
}

function targetFrom(config: Config, url?: string, apiKey?: string): Target {
  const host = ["0.0.0.0", "::", ""].includes(config.server.host)
    ? "127.0.0.1"
    : config.server.host;
  const shown = host.includes(":") ? `[${host}]` : host;
  return {
    baseUrl: (url ?? `http://${shown}:${config.server.port}`).replace(/\/+$/, ""),
    apiKey: apiKey ?? config.auth.apiKeys[0]?.key,
  };
}

/**
 * Runs a client subcommand.
 *
 * @param command One of {@linkcode CLIENT_COMMANDS}.
 * @param args The arguments after it.
 * @param write Where the response body goes (stdout).
 * @param writeErr Where errors go (stderr).
 * @returns The exit code: 0 on a 2xx answer (and, for healthcheck, status ok), 1 otherwise, 2 on usage errors.
 */
export async function runClientCommand(
  command: string,
  args: readonly string[],
  write: (text: string) => void,
  writeErr: (text: string) => void,
): Promise<number> {
  let target: Target;
  let positional: string[];
  try {
    const split = splitClientFlags(args);
    positional = split.positional;
    target = targetFrom(loadConfigFromProcess(split.rest), split.url, split.apiKey);
  } catch (error) {
    writeErr(`${(error as Error).message}\n`);
    return 2;
  }
  const [collection, snapshotId] = positional;
  if (command !== "healthcheck" && collection === undefined) {
    writeErr(`Cannot run akidb ${command}: a collection name or id is required\n`);
    return 2;
  }
  const c = encodeURIComponent(collection ?? "");
  const request = command === "healthcheck"
    ? { method: "GET", path: "/health", body: undefined }
    : command === "snapshot"
    ? { method: "POST", path: `/api/v1/collections/${c}/snapshots`, body: undefined }
    : {
      method: "POST",
      path: `/api/v1/admin/collections/${c}/restore`,
      body: JSON.stringify({ snapshot_id: snapshotId ?? "latest" }),
    };
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (target.apiKey !== undefined && command !== "healthcheck") {
    headers.authorization = `Bearer ${target.apiKey}`;
  }
  try {
    const response = await fetch(`${target.baseUrl}${request.path}`, {
      method: request.method,
      headers,
      body: request.body ?? null,
      signal: AbortSignal.timeout(command === "healthcheck" ? 5_000 : 600_000),
    });
    const text = await response.text();
    write(text.endsWith("\n") ? text : `${text}\n`);
    if (!response.ok) return 1;
    if (command === "healthcheck") return /"status"\s*:\s*"ok"/.test(text) ? 0 : 1;
    return 0;
  } catch (error) {
    writeErr(`Cannot reach ${target.baseUrl}${request.path}: ${(error as Error).message}\n`);
    return 1;
  }
}
