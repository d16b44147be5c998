/**
 * Text normalisation for comparing article versions: typography that readers don't see as an
 * edit (curly vs straight quotes, dash variants, soft hyphens, no-break and odd spaces, runs of
 * whitespace) must not make a new version.
 */
export function normaliseForComparison(text: string): string {
  return text
    .normalize("NFKC")
    .replace(/[\u00ad\u200b-\u200d\u2060\ufeff]/g, "")
    .replace(/[\u2018\u2019\u201a\u201b\u2032\u00b4`]/g, "'")
    .replace(/[\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb]/g, '"')
    .replace(/[\u2010-\u2015\u2212\u2e3a\u2e3b]/g, "-")
    .replace(/\u2026/g, "...")
    .split(/\n\s*\n/)
    .map((para) => para.replace(/\s+/g, " ").trim())
    .filter((para) => para !== "")
    .join("\n\n");
}

/** The comparable form of a whole article: its title counts as part of the text. */
export function comparableArticle(title: string | null, text: string): string {
  return `${normaliseForComparison(title ?? "")}\n\n${normaliseForComparison(text)}`;
}
