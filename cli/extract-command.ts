import { extractArticle } from "../shared/domain/extract/index.ts";
import { type Command, UsageError } from "./commands.ts";
import { readHtmlFile } from "./read-html-file.ts";

/** `palimpsest extract <file.html>...`: the extractor on saved pages, one JSON object a line. */
export const extractCommand: Command = {
  name: "extract",
  summary: "extract the article from saved HTML files (one JSON object per line)",
  usage: [
    "usage: palimpsest extract <file.html | file.html.gz>...",
    "",
    "Runs the article extractor on each saved page and prints one JSON object per line:",
    '  {"file","title","byline","publishedTime","modifiedTime","lang","text"}',
    "A page with no article prints its line with null fields. A file that cannot be read is",
    "reported on stderr; the others are still processed and the exit status is 1.",
  ].join("\n"),
  async run(args, io) {
    if (args.length === 0)
      throw new UsageError("extract needs at least one file (see palimpsest extract --help)");
    let failures = 0;
    for (const file of args) {
      let html: string;
      try {
        html = await readHtmlFile(file);
      } catch (error) {
        if (!(error instanceof UsageError)) throw error;
        io.err(`palimpsest extract: ${error.message}`);
        failures++;
        continue;
      }
      const article = extractArticle(html);
      io.out(
        JSON.stringify({
          file,
          title: article?.title ?? null,
          byline: article?.byline ?? null,
          publishedTime: article?.publishedTime ?? null,
          modifiedTime: article?.modifiedTime ?? null,
          lang: article?.lang ?? null,
          text: article?.text ?? null,
        }),
      );
    }
    return failures === 0 ? 0 : 1;
  },
};
