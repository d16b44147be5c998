import { apiClientFromEnv, parseOptions, withApi } from "./api-client.ts";
import { type Command, type CommandIo, UsageError } from "./commands.ts";

/** The parts of `GET /v1/captures/{id}` the command line shows. */
export interface CaptureView {
  captureId: string;
  url: string;
  status: "queued" | "running" | "succeeded" | "failed";
  versionId?: string;
  changed?: boolean;
  /** What a succeeded capture found (`first_version`, `new_version`, `unchanged`, `removed`, `no_version`). */
  outcome?: string;
  edit?: { significance: string; stealth: boolean; kinds: string[] };
  error?: { code: string; message: string };
  artifacts?: Record<string, { url: string; contentType: string; bytes: number }>;
}

const POLL_INTERVAL_MS = 500;
const DEFAULT_TIMEOUT_SECONDS = 300;

/** One line about what a finished capture found. */
export function describeOutcome(capture: CaptureView): string {
  if (capture.status === "failed") {
    return `failed: ${capture.error?.code ?? "unknown"}: ${capture.error?.message ?? "no reason recorded"}`;
  }
  const edit = capture.edit;
  if (edit) {
    return `succeeded, new version ${capture.versionId}: ${edit.significance}${edit.stealth ? " stealth" : ""} edit (${edit.kinds.join(", ")})`;
  }
  const version = capture.versionId ?? "none";
  // A first capture has nothing to compare with: "no change" would claim a comparison.
  const found: Record<string, string> = {
    first_version: `first version ${version}`,
    new_version: `new version ${version}`,
    removed: `the article was removed (version ${version})`,
    no_version: "no version recorded",
  };
  return `succeeded, ${found[capture.outcome ?? ""] ?? `version ${version}, no change`}`;
}

/** The artifact links, one `name  url` line each. */
export function printArtifacts(capture: CaptureView, io: CommandIo): void {
  const entries = Object.entries(capture.artifacts ?? {});
  const width = Math.max(0, ...entries.map(([name]) => name.length));
  for (const [name, link] of entries) io.out(`${name.padEnd(width)}  ${link.url}`);
}

/** `palimpsest capture <url> [--wait]`: asks the API to archive a page. */
export const captureCommand: Command = {
  name: "capture",
  summary: "archive a page through the API (PALIMPSEST_API); --wait follows it to the end",
  usage: [
    "usage: palimpsest capture <url> [--wait] [--timeout <seconds>]",
    "",
    "Submits <url> to the archive and prints the capture id. With --wait, shows each status",
    "change on stderr until the capture ends, then prints its artifact links (presigned, short-",
    "lived) one per line; exits 1 with the reason if the capture failed or did not end within",
    `--timeout seconds (default ${DEFAULT_TIMEOUT_SECONDS}).`,
    "",
    `PALIMPSEST_API is the API's address (default http://127.0.0.1:3000); PALIMPSEST_API_KEY,`,
    "when set, is sent as x-api-key.",
  ].join("\n"),
  async run(args, io) {
    const { options, positional } = parseOptions(args, { wait: "flag", timeout: "value" });
    if (positional.length !== 1)
      throw new UsageError("capture needs exactly one URL (see palimpsest capture --help)");
    const timeoutSeconds = options.timeout === undefined ? DEFAULT_TIMEOUT_SECONDS : Number(options.timeout);
    if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
      throw new UsageError("--timeout must be a positive number of seconds");
    }
    const api = apiClientFromEnv();
    return withApi("capture", io, async () => {
      const submitted = await api.post<{ captureId: string; status: string }>("/v1/captures", {
        url: positional[0],
      });
      io.out(submitted.captureId);
      if (options.wait === undefined) return 0;
      io.err(`${submitted.captureId}: ${submitted.status}`);
      let last = submitted.status;
      const deadline = Date.now() + timeoutSeconds * 1000;
      while (Date.now() < deadline) {
        const capture = await api.get<CaptureView>(`/v1/captures/${submitted.captureId}`);
        if (capture.status === "succeeded" || capture.status === "failed") {
          io.err(`${capture.captureId}: ${describeOutcome(capture)}`);
          if (capture.status === "failed") return 1;
          printArtifacts(capture, io);
          return 0;
        }
        if (capture.status !== last) io.err(`${capture.captureId}: ${capture.status}`);
        last = capture.status;
        await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
      }
      io.err(
        `palimpsest capture: still ${last} after ${timeoutSeconds} s; check later with \`palimpsest status ${submitted.captureId}\``,
      );
      return 1;
    });
  },
};
