/**
 * Pairing removed and added sentences inside one hunk as "the same sentence, reworded".
 *
 * Similarity is on the multiset of lower-cased word keys: Dice ≥ 0.5, or, for sentences of at
 * least four words, containment ≥ 0.8 (a clause was added to or cut from the sentence). Pairs keep
 * document order. Small hunks get an exact maximum-weight monotone matching (dynamic programming
 * over |D|·|I| ≤ `FULL_MATCH_CELLS` cells); larger hunks (rewrites) compare each removed sentence
 * only with added sentences within `window` of where it would be expected, greedily. Every
 * comparison is charged to a step budget; once spent, the remaining sentences stay unpaired
 * (reported as removed and added, which is never wrong, only coarser).
 */

const FULL_MATCH_CELLS = 4096;

export interface PairBudget {
  remaining: number;
  work: number;
  exhausted: boolean;
}

/** Lower-cased word ids of a sentence, sorted, for multiset intersection by merging. */
export type WordBag = Int32Array;

/** The bags of one side of a hunk, built on first use so that unexamined sentences cost nothing. */
export interface Bags {
  readonly length: number;
  get(index: number): WordBag;
}

const DICE_THRESHOLD = 0.5;
const CONTAINMENT_THRESHOLD = 0.8;
const CONTAINMENT_MIN_WORDS = 4;
const SHORT_SENTENCE_WORDS = 3;

/** Similarity weight in (0, 1] when the two sentences qualify as a pair, else 0. */
function pairWeight(x: WordBag, y: WordBag, budget: PairBudget): number {
  const cost = x.length + y.length + 1;
  budget.remaining -= cost;
  budget.work += cost;
  if (x.length === 0 || y.length === 0) return 0;
  let i = 0;
  let j = 0;
  let common = 0;
  while (i < x.length && j < y.length) {
    const xi = x[i] as number;
    const yj = y[j] as number;
    if (xi === yj) {
      common++;
      i++;
      j++;
    } else if (xi < yj) i++;
    else j++;
  }
  const dice = (2 * common) / (x.length + y.length);
  const shorter = Math.min(x.length, y.length);
  if (dice >= DICE_THRESHOLD) return dice;
  if (shorter >= CONTAINMENT_MIN_WORDS && common / shorter >= CONTAINMENT_THRESHOLD) return DICE_THRESHOLD;
  return 0;
}

/**
 * Returns monotone pairs [indexInRemoved, indexInAdded] for one hunk.
 */
export function pairHunk(
  removed: Bags,
  added: Bags,
  window: number,
  budget: PairBudget,
): Array<[number, number]> {
  if (removed.length === 0 || added.length === 0 || budget.remaining <= 0) {
    if (budget.remaining <= 0 && removed.length > 0 && added.length > 0) budget.exhausted = true;
    return [];
  }
  // One short sentence replaced by another in the same place ("5" → "12", "Yes." → "No."): word
  // bags that small say nothing about similarity, position does.
  if (removed.length === 1 && added.length === 1) {
    const [only, other] = [removed.get(0), added.get(0)];
    const shorter = Math.min(only.length, other.length);
    if (shorter > 0 && shorter <= SHORT_SENTENCE_WORDS) return [[0, 0]];
  }
  if (removed.length * added.length <= FULL_MATCH_CELLS) return pairExactly(removed, added, budget);
  return pairGreedily(removed, added, window, budget);
}

function pairExactly(removed: Bags, added: Bags, budget: PairBudget): Array<[number, number]> {
  const rows = removed.length;
  const cols = added.length;
  const weight = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      if (budget.remaining <= 0) {
        budget.exhausted = true;
        return [];
      }
      weight[r * cols + c] = pairWeight(removed.get(r), added.get(c), budget);
    }
  }
  const width = cols + 1;
  const score = new Float64Array((rows + 1) * width);
  for (let r = 1; r <= rows; r++) {
    for (let c = 1; c <= cols; c++) {
      const w = weight[(r - 1) * cols + (c - 1)] as number;
      const diagonal = w > 0 ? (score[(r - 1) * width + (c - 1)] as number) + w : 0;
      score[r * width + c] = Math.max(
        score[(r - 1) * width + c] as number,
        score[r * width + (c - 1)] as number,
        diagonal,
      );
    }
  }
  const pairs: Array<[number, number]> = [];
  let r = rows;
  let c = cols;
  while (r > 0 && c > 0) {
    const here = score[r * width + c] as number;
    if (here === score[(r - 1) * width + c]) r--;
    else if (here === score[r * width + (c - 1)]) c--;
    else {
      pairs.push([r - 1, c - 1]);
      r--;
      c--;
    }
  }
  return pairs.reverse();
}

function pairGreedily(
  removed: Bags,
  added: Bags,
  window: number,
  budget: PairBudget,
): Array<[number, number]> {
  const pairs: Array<[number, number]> = [];
  const scale = added.length / removed.length;
  let nextAdded = 0;
  for (let r = 0; r < removed.length && nextAdded < added.length; r++) {
    const expected = Math.round(r * scale);
    const from = Math.max(nextAdded, expected - window);
    const to = Math.min(added.length, Math.max(from, expected) + window + 1);
    let best = -1;
    let bestWeight = 0;
    for (let c = from; c < to; c++) {
      if (budget.remaining <= 0) {
        budget.exhausted = true;
        return pairs;
      }
      const w = pairWeight(removed.get(r), added.get(c), budget);
      if (w > bestWeight) {
        bestWeight = w;
        best = c;
      }
    }
    if (best >= 0) {
      pairs.push([r, best]);
      nextAdded = best + 1;
    }
  }
  return pairs;
}
