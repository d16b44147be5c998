/**
 * Word tokens as the extraction benchmarks count them: runs of Unicode letters, numbers and
 * underscores, lower-cased. `[\p{L}\p{N}_]` is the Unicode reading of Python's `\w` (letters are
 * what `str.isalpha` accepts, L*; numbers what `str.isnumeric` accepts, N*); like Python's `re`,
 * it does not count combining marks (M*) as word characters.
 */
export function wordTokens(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}_]+/gu) ?? [];
}

/** Occurrences of each token. */
export function countTokens(tokens: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const t of tokens) counts.set(t, (counts.get(t) ?? 0) + 1);
  return counts;
}

/** Size of the multiset intersection of two token lists. */
export function tokenOverlap(a: readonly string[], b: readonly string[]): number {
  const remaining = countTokens(b);
  let overlap = 0;
  for (const t of a) {
    const n = remaining.get(t);
    if (n !== undefined && n > 0) {
      overlap++;
      remaining.set(t, n - 1);
    }
  }
  return overlap;
}

/** Word-level agreement between an extracted text and a reference text. */
export interface WordScore {
  precision: number;
  recall: number;
  f1: number;
  predictedTokens: number;
  referenceTokens: number;
}

/**
 * Bag-of-words precision/recall/F1 of `predicted` against `reference` (the usual extraction
 * benchmark metric): overlap / predicted tokens, overlap / reference tokens.
 */
export function scoreWords(predicted: string, reference: string): WordScore {
  const p = wordTokens(predicted);
  const r = wordTokens(reference);
  const overlap = tokenOverlap(p, r);
  const precision = p.length === 0 ? 0 : overlap / p.length;
  const recall = r.length === 0 ? 0 : overlap / r.length;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1, predictedTokens: p.length, referenceTokens: r.length };
}
