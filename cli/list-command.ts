import { apiClientFromEnv, limitOption, parseOptions, withApi } from "./api-client.ts";
import { type Command, UsageError } from "./commands.ts";

interface CapturePage {
  items: Array<{ captureId: string; url: string; status: string; requestedAt: string }>;
  cursor?: string;
}

/** `palimpsest list`: recent captures across the archive, newest first. */
export const listCommand: Command = {
  name: "list",
  summary: "list recent captures, newest first",
  usage: [
    "usage: palimpsest list [--limit <n>] [--cursor <cursor>] [--json]",
    "",
    "Prints one capture a line: requested time, status, capture id, URL. --limit is 1 to 100",
    "(default 20). When there are more, stderr says the --cursor that shows the next page.",
    "--json prints the API's page as it is.",
  ].join("\n"),
  async run(args, io) {
    const { options, positional } = parseOptions(args, { limit: "value", cursor: "value", json: "flag" });
    if (positional.length > 0) throw new UsageError(`unexpected argument "${positional[0]}"`);
    const api = apiClientFromEnv();
    return withApi("list", io, async () => {
      const page = await api.get<CapturePage>("/v1/captures", {
        limit: limitOption(options.limit),
        cursor: options.cursor as string | undefined,
      });
      if (options.json) {
        io.out(JSON.stringify(page));
        return 0;
      }
      if (page.items.length === 0) io.err("no captures");
      const width = Math.max(0, ...page.items.map((c) => c.status.length));
      for (const c of page.items)
        io.out(`${c.requestedAt}  ${c.status.padEnd(width)}  ${c.captureId}  ${c.url}`);
      if (page.cursor) io.err(`more: palimpsest list --cursor ${page.cursor}`);
      return 0;
    });
  },
};
