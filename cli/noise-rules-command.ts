/** `palimpsest noise-rules`: show or set what a URL's or a source's comparisons ignore. */
import { apiClientFromEnv, parseOptions, withApi } from "./api-client.ts";
import { type Command, UsageError } from "./commands.ts";

interface RulesView {
  scope: "url" | "source";
  id: string;
  dropSelectors: string[];
  minChangedWords: number;
  inEffect?: { dropSelectors: string[]; minChangedWords: number; from: Array<{ scope: string; id: string }> };
}

export const noiseRulesCommand: Command = {
  name: "noise-rules",
  summary: "show or set the noise rules of an archived URL or a followed source",
  usage: [
    "usage: palimpsest noise-rules <urlId|sourceId> [--drop <css selector>]... [--min-words <n>] [--clear] [--json]",
    "",
    "Without options, prints the rules set on the URL (or the source: ids starting src_) and, for",
    "a URL, the rules in force including those of the sources that found it. --drop (repeatable)",
    "and --min-words replace the rules: elements matching a selector are dropped before the",
    "article is read, and a change of fewer than <n> words (inserted plus deleted) makes no new",
    "version. --clear removes them. Rules apply to comparisons from now on.",
  ].join("\n"),
  async run(args, io) {
    const drops: string[] = [];
    const rest: string[] = [];
    // --drop repeats; parseOptions keeps one value per option, so it is gathered here.
    for (let i = 0; i < args.length; i++) {
      const arg = args[i] ?? "";
      if (arg === "--drop") {
        const value = args[++i];
        if (value === undefined || value === "") throw new UsageError("--drop needs a CSS selector");
        drops.push(value);
      } else if (arg.startsWith("--drop=")) drops.push(arg.slice("--drop=".length));
      else rest.push(arg);
    }
    const { options, positional } = parseOptions(rest, { "min-words": "value", clear: "flag", json: "flag" });
    if (positional.length !== 1) throw new UsageError("give one URL id or source id");
    const id = positional[0] ?? "";
    const path = `/v1/${id.startsWith("src_") ? "sources" : "urls"}/${encodeURIComponent(id)}/noise-rules`;
    const minWords = options["min-words"];
    if (minWords !== undefined && (typeof minWords !== "string" || !/^\d+$/.test(minWords)))
      throw new UsageError("--min-words takes a whole number of words");
    if (options.clear && (drops.length > 0 || minWords !== undefined))
      throw new UsageError("--clear cannot be combined with --drop or --min-words");
    const api = apiClientFromEnv();
    return withApi("noise-rules", io, async () => {
      const rules = options.clear
        ? await api.delete<RulesView>(path)
        : drops.length > 0 || minWords !== undefined
          ? await api.put<RulesView>(path, {
              dropSelectors: drops,
              minChangedWords: minWords === undefined ? 0 : Number(minWords),
            })
          : await api.get<RulesView>(path);
      if (options.json) {
        io.out(JSON.stringify(rules));
        return 0;
      }
      io.out(`drop: ${rules.dropSelectors.length > 0 ? rules.dropSelectors.join(" | ") : "(nothing)"}`);
      io.out(`min changed words: ${rules.minChangedWords}`);
      if (rules.inEffect && rules.inEffect.from.length > 0) {
        const from = rules.inEffect.from.map((f) => `${f.scope} ${f.id}`).join(", ");
        io.out(
          `in effect (from ${from}): drop ${rules.inEffect.dropSelectors.join(" | ") || "(nothing)"}; min ${rules.inEffect.minChangedWords}`,
        );
      }
      return 0;
    });
  },
};
