import { apiClientFromEnv, parseOptions, withApi } from "./api-client.ts";
import { type CommandIo, UsageError } from "./commands.ts";

/**
 * `palimpsest diff --url <url>`: the latest edit of an archived page, from the API — the same
 * JSON as comparing two files, plus which versions it compares.
 */
export async function runUrlDiff(args: string[], io: CommandIo): Promise<number> {
  const { options, positional } = parseOptions(args, { url: "value" });
  if (positional.length > 0 || typeof options.url !== "string") {
    throw new UsageError("diff --url takes one URL and no files (see palimpsest diff --help)");
  }
  const api = apiClientFromEnv();
  return withApi("diff", io, async () => {
    const record = await api.get<{ urlId: string; url: string; versionCount: number }>("/v1/urls", {
      url: options.url as string,
    });
    if (record.versionCount < 2) {
      io.err(`palimpsest diff: ${record.url} has not changed since it was first archived`);
      return 1;
    }
    const { html: _html, ...diff } = await api.get<Record<string, unknown>>(`/v1/urls/${record.urlId}/diff`);
    io.out(JSON.stringify({ url: record.url, ...diff }));
    return 0;
  });
}
