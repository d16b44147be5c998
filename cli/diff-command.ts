import { readFile } from "node:fs/promises";
import { diffArticles, summariseEdit } from "../shared/domain/diff/index.ts";
import { type Command, UsageError } from "./commands.ts";
import { runUrlDiff } from "./url-diff-command.ts";

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (cause) {
    throw new UsageError(`cannot read ${file}: ${(cause as NodeJS.ErrnoException).code ?? "error"}`, {
      cause,
    });
  }
}

/** `palimpsest diff <old.txt> <new.txt>`: the edit between two article texts, as JSON. */
export const diffCommand: Command = {
  name: "diff",
  summary: "compare two article texts (or an archived page's latest versions) and print the edit as JSON",
  usage: [
    "usage: palimpsest diff <old.txt> <new.txt>",
    "       palimpsest diff --url <url>",
    "",
    "Compares two article texts (paragraphs separated by blank lines) the way the archive",
    "compares versions, and prints one JSON object:",
    '  {"significance": "none" | "minor" | "major", "kinds", "stealth", "stats", "summary", "changes"}',
    'Typography, whitespace and page furniture never count: such pairs print "significance": "none".',
    "",
    "With --url, prints the latest edit of an archived page instead, from the API (PALIMPSEST_API),",
    'with its "url", "urlId" and the versions compared ("from", "to" and their capture times).',
  ].join("\n"),
  async run(args, io) {
    if (args.some((arg) => arg === "--url" || arg.startsWith("--url="))) return runUrlDiff(args, io);
    if (args.length !== 2) throw new UsageError("diff needs exactly two files (see palimpsest diff --help)");
    const [oldText, newText] = await Promise.all(args.map(readText));
    const article = (text: string) => ({ title: null, byline: null, text, modifiedTime: null });
    const diff = diffArticles(article(oldText ?? ""), article(newText ?? ""));
    io.out(
      JSON.stringify({
        ...(diff.edit ?? { significance: "none", kinds: [], stealth: false }),
        summary: summariseEdit(diff.edit, diff.changes),
        changes: diff.changes,
      }),
    );
    return 0;
  },
};
