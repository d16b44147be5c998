/** `palimpsest follow` and `palimpsest sources`: following outlets from the command line. */
import { apiClientFromEnv, limitOption, parseOptions, withApi } from "./api-client.ts";
import { type Command, UsageError } from "./commands.ts";

/** The parts of a source the command line shows. */
interface SourceView {
  sourceId: string;
  url: string;
  kind: string;
  title: string | null;
  status: string;
  pollEveryMinutes: number;
  lastPolledAt: string | null;
  articleCount: number;
  lastError?: { code: string; message: string };
}

/** `--recapture adaptive|off|<minutes>` as the API's policy. */
function recaptureOption(value: string | undefined): unknown {
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value)) return { everyMinutes: Number(value) };
  return value;
}

function everyOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`--every takes whole minutes (5 to 1440), not "${value}"`);
  return Number(value);
}

export const followCommand: Command = {
  name: "follow",
  summary: "follow an outlet: a feed, a sitemap or a section page",
  usage: [
    "usage: palimpsest follow <url> [--link-pattern <regex>] [--every <minutes>] [--kind feed|sitemap|page]",
    "                        [--recapture adaptive|off|<minutes>]",
    "",
    "Follows the URL: its articles are archived now, and each new one as a poll finds it (every",
    "15 minutes unless --every says otherwise, 5 to 1440). An HTML page that names its feed is",
    "followed through the feed; one that does not needs --link-pattern, a regular expression",
    "(RE2 syntax) that the page's article links match. Prints the source id on stdout and what",
    "was followed on stderr.",
  ].join("\n"),
  async run(args, io) {
    const { options, positional } = parseOptions(args, {
      "link-pattern": "value",
      every: "value",
      kind: "value",
      recapture: "value",
    });
    if (positional.length !== 1) throw new UsageError("give one URL to follow");
    const body = {
      url: positional[0],
      ...(options["link-pattern"] !== undefined ? { linkPattern: options["link-pattern"] } : {}),
      ...(options.every !== undefined ? { pollEveryMinutes: everyOption(options.every as string) } : {}),
      ...(options.kind !== undefined ? { kind: options.kind } : {}),
      ...(options.recapture !== undefined ? { recapture: recaptureOption(options.recapture as string) } : {}),
    };
    const api = apiClientFromEnv();
    return withApi("follow", io, async () => {
      const source = await api.post<SourceView>("/v1/sources", body);
      io.out(source.sourceId);
      io.err(
        `${source.sourceId}: following ${source.kind} ${source.url}${source.title ? ` (${source.title})` : ""}, every ${source.pollEveryMinutes} min`,
      );
      return 0;
    });
  },
};

export const sourcesCommand: Command = {
  name: "sources",
  summary: "list followed sources, newest first",
  usage: [
    "usage: palimpsest sources [--limit <n>] [--cursor <cursor>] [--json]",
    "",
    "Prints one source a line: status, articles found, last poll, source id, URL, and the last",
    "poll's error code when it had one. --limit is 1 to 100 (default 20); when there are more,",
    "stderr says the --cursor that shows the next page. --json prints the API's page as it is.",
  ].join("\n"),
  async run(args, io) {
    const { options, positional } = parseOptions(args, { limit: "value", cursor: "value", json: "flag" });
    if (positional.length > 0) throw new UsageError(`unexpected argument "${positional[0]}"`);
    const api = apiClientFromEnv();
    return withApi("sources", io, async () => {
      const page = await api.get<{ items: SourceView[]; cursor?: string }>("/v1/sources", {
        limit: limitOption(options.limit),
        cursor: options.cursor as string | undefined,
      });
      if (options.json) {
        io.out(JSON.stringify(page));
        return 0;
      }
      if (page.items.length === 0) io.err("no sources; follow one with: palimpsest follow <url>");
      for (const s of page.items) {
        const polled = s.lastPolledAt ?? "never polled";
        const problem = s.lastError ? `  ${s.lastError.code}` : "";
        io.out(
          `${s.status.padEnd(6)}  ${String(s.articleCount).padStart(5)}  ${polled}  ${s.sourceId}  ${s.url}${problem}`,
        );
      }
      if (page.cursor) io.err(`more: palimpsest sources --cursor ${page.cursor}`);
      return 0;
    });
  },
};
