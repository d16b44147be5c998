/**
 * Bounded longest-common-subsequence matching of two integer sequences (sentence or word ids).
 *
 * 1. Common prefix and suffix are matched in linear time.
 * 2. The middle is aligned with Myers' O((N+M)·D) algorithm, counting every inner step; it gives
 *    up once the count passes `maxSteps`, which also caps D at about √(2·maxSteps) and the trace
 *    memory at about maxSteps integers. A linear lower bound on D skips runs that cannot finish
 *    (a complete rewrite goes straight to step 3).
 * 3. If Myers gives up, the patience fallback anchors on elements that occur exactly once on each
 *    side (longest increasing run of them, O(k log k)), recurses between anchors, and aligns small
 *    gaps with Myers again under a second budget of `maxSteps`. Gaps it cannot afford are matched
 *    greedily in order (identical elements only, linear) and reported as `coarse`.
 *
 * Total work is therefore at most about 2·maxSteps plus O((N+M) log(N+M)), whatever the input.
 */

export interface SequenceMatch {
  /** For each element of `a`, the index of its match in `b`, or -1. Matches are strictly increasing. */
  aToB: Int32Array;
  /** Counted steps. */
  work: number;
  /** A region was matched greedily rather than optimally because the budget ran out. */
  coarse: boolean;
}

export function matchSequences(a: Int32Array, b: Int32Array, maxSteps: number): SequenceMatch {
  const aToB = new Int32Array(a.length).fill(-1);
  let aLo = 0;
  let bLo = 0;
  let aHi = a.length;
  let bHi = b.length;
  while (aLo < aHi && bLo < bHi && a[aLo] === b[bLo]) aToB[aLo++] = bLo++;
  while (aLo < aHi && bLo < bHi && a[aHi - 1] === b[bHi - 1]) aToB[--aHi] = --bHi;
  let work = a.length + b.length;
  if (aLo === aHi || bLo === bHi) return { aToB, work, coarse: false };
  const size = aHi - aLo + (bHi - bLo);
  work += size;
  if (myersLowerBound(a, aLo, aHi, b, bLo, bHi) <= maxSteps) {
    const myers = myersMatch(a, aLo, aHi, b, bLo, bHi, aToB, maxSteps);
    work += Math.abs(myers);
    if (myers >= 0) return { aToB, work, coarse: false };
  }
  const fallback = patienceMatch(a, aLo, aHi, b, bLo, bHi, aToB, maxSteps, size);
  return { aToB, work: work + fallback.work, coarse: fallback.coarse };
}

/**
 * A lower bound on Myers' steps for a range: the edit distance D is at least n + m minus twice
 * the number of elements the two sides have in common, and reaching D takes about D²/2 steps.
 * Lets a complete rewrite skip a Myers run that could only exhaust its budget. Linear.
 */
function myersLowerBound(
  a: Int32Array,
  aLo: number,
  aHi: number,
  b: Int32Array,
  bLo: number,
  bHi: number,
): number {
  const counts = new Map<number, number>();
  for (let i = aLo; i < aHi; i++) counts.set(a[i] as number, (counts.get(a[i] as number) ?? 0) + 1);
  let common = 0;
  for (let j = bLo; j < bHi; j++) {
    const left = counts.get(b[j] as number);
    if (left) {
      common++;
      counts.set(b[j] as number, left - 1);
    }
  }
  const d = aHi - aLo + (bHi - bLo) - 2 * common;
  return (d * d) / 2;
}

/**
 * Myers' greedy forward algorithm with a compact trace. Fills `aToB` and returns the steps used,
 * or minus the steps used when it gave up (leaving `aToB` untouched in the range).
 */
function myersMatch(
  a: Int32Array,
  aLo: number,
  aHi: number,
  b: Int32Array,
  bLo: number,
  bHi: number,
  aToB: Int32Array,
  maxSteps: number,
): number {
  const n = aHi - aLo;
  const m = bHi - bLo;
  const dCap = Math.min(n + m, Math.ceil(Math.sqrt(2 * maxSteps)) + 1);
  const offset = dCap + 1;
  const v = new Int32Array(2 * dCap + 3);
  const trace: Int32Array[] = [];
  let steps = 0;
  for (let d = 0; d <= dCap; d++) {
    for (let k = -d; k <= d; k += 2) {
      const down = k === -d || (k !== d && at(v, offset + k - 1) < at(v, offset + k + 1));
      let x = down ? at(v, offset + k + 1) : at(v, offset + k - 1) + 1;
      let y = x - k;
      while (x < n && y < m && a[aLo + x] === b[bLo + y]) {
        x++;
        y++;
        steps++;
      }
      v[offset + k] = x;
      steps++;
      if (x >= n && y >= m) {
        trace.push(compact(v, offset, d));
        backtrack(trace, n, m, aLo, bLo, aToB);
        return steps;
      }
    }
    trace.push(compact(v, offset, d));
    if (steps > maxSteps) return -steps;
  }
  return -Math.max(1, steps);
}

function at(array: Int32Array, index: number): number {
  return array[index] as number;
}

/** V after round d holds values only for k = -d, -d+2, …, d: keep those d+1. */
function compact(v: Int32Array, offset: number, d: number): Int32Array {
  const out = new Int32Array(d + 1);
  for (let i = 0, k = -d; k <= d; i++, k += 2) out[i] = at(v, offset + k);
  return out;
}

function backtrack(
  trace: Int32Array[],
  n: number,
  m: number,
  aLo: number,
  bLo: number,
  aToB: Int32Array,
): void {
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d > 0; d--) {
    const prev = trace[d - 1] as Int32Array;
    const get = (k: number): number => at(prev, (k + d - 1) >> 1);
    const k = x - y;
    const down = k === -d || (k !== d && get(k - 1) < get(k + 1));
    const prevK = down ? k + 1 : k - 1;
    const prevX = get(prevK);
    const startX = down ? prevX : prevX + 1;
    while (x > startX) {
      x--;
      y--;
      aToB[aLo + x] = bLo + y;
    }
    x = prevX;
    y = prevX - prevK;
  }
  while (x > 0 && y > 0) {
    x--;
    y--;
    aToB[aLo + x] = bLo + y;
  }
}

interface Range {
  aLo: number;
  aHi: number;
  bLo: number;
  bHi: number;
}

/** Anchors on elements unique on both sides, then Myers in the gaps while the budget lasts. */
function patienceMatch(
  a: Int32Array,
  aLo: number,
  aHi: number,
  b: Int32Array,
  bLo: number,
  bHi: number,
  aToB: Int32Array,
  maxSteps: number,
  failedSize: number,
): { work: number; coarse: boolean } {
  let budget = maxSteps;
  let work = 0;
  let coarse = false;
  const stack: Range[] = [{ aLo, aHi, bLo, bHi }];
  while (stack.length > 0) {
    const range = stack.pop() as Range;
    let { aLo: al, aHi: ah, bLo: bl, bHi: bh } = range;
    while (al < ah && bl < bh && a[al] === b[bl]) aToB[al++] = bl++;
    while (al < ah && bl < bh && a[ah - 1] === b[bh - 1]) aToB[--ah] = --bh;
    if (al === ah || bl === bh) continue;
    const size = ah - al + (bh - bl);
    if (budget <= 0) {
      work += greedyMatch(a, al, ah, b, bl, bh, aToB);
      coarse = true;
      continue;
    }
    budget -= size;
    work += size;
    const anchors = uniqueAnchors(a, al, ah, b, bl, bh);
    if (anchors.length > 0) {
      let prevA = al;
      let prevB = bl;
      for (const [ai, bi] of anchors) {
        aToB[ai] = bi;
        if (ai > prevA || bi > prevB) stack.push({ aLo: prevA, aHi: ai, bLo: prevB, bHi: bi });
        prevA = ai + 1;
        prevB = bi + 1;
      }
      if (ah > prevA || bh > prevB) stack.push({ aLo: prevA, aHi: ah, bLo: prevB, bHi: bh });
      continue;
    }
    // Myers already failed on the whole range; retry it only on smaller, affordable gaps.
    budget -= size;
    work += size;
    const affordable = size < failedSize && myersLowerBound(a, al, ah, b, bl, bh) <= budget;
    const used = affordable ? myersMatch(a, al, ah, b, bl, bh, aToB, budget) : -1;
    budget -= Math.abs(used);
    work += Math.abs(used);
    if (used < 0) {
      work += greedyMatch(a, al, ah, b, bl, bh, aToB);
      coarse = true;
    }
  }
  return { work, coarse };
}

/** Pairs of positions whose element occurs once in each range, reduced to a longest increasing chain. */
function uniqueAnchors(
  a: Int32Array,
  aLo: number,
  aHi: number,
  b: Int32Array,
  bLo: number,
  bHi: number,
): Array<[number, number]> {
  const inA = new Map<number, number>();
  for (let i = aLo; i < aHi; i++) {
    const id = a[i] as number;
    inA.set(id, inA.has(id) ? -1 : i);
  }
  const inB = new Map<number, number>();
  for (let j = bLo; j < bHi; j++) {
    const id = b[j] as number;
    if (inA.has(id)) inB.set(id, inB.has(id) ? -1 : j);
  }
  const pairs: Array<[number, number]> = [];
  for (let i = aLo; i < aHi; i++) {
    const id = a[i] as number;
    if (inA.get(id) !== i) continue;
    const j = inB.get(id);
    if (j !== undefined && j >= 0) pairs.push([i, j]);
  }
  return longestIncreasingByB(pairs);
}

/** Patience sorting: the longest chain of pairs (already ordered by a) with increasing b. */
function longestIncreasingByB(pairs: Array<[number, number]>): Array<[number, number]> {
  if (pairs.length === 0) return pairs;
  const tails: number[] = [];
  const previous = new Int32Array(pairs.length).fill(-1);
  for (let p = 0; p < pairs.length; p++) {
    const value = (pairs[p] as [number, number])[1];
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((pairs[tails[mid] as number] as [number, number])[1] < value) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) previous[p] = tails[lo - 1] as number;
    tails[lo] = p;
  }
  const chain: Array<[number, number]> = [];
  for (let p = tails[tails.length - 1] as number; p >= 0; p = previous[p] as number)
    chain.push(pairs[p] as [number, number]);
  return chain.reverse();
}

/**
 * Last resort, linear: walk `a` and match each element to the next identical one in `b` if it is
 * close ahead. Keeps runs of unchanged repeated sentences from showing as deleted and re-added.
 */
function greedyMatch(
  a: Int32Array,
  aLo: number,
  aHi: number,
  b: Int32Array,
  bLo: number,
  bHi: number,
  aToB: Int32Array,
): number {
  const lookahead = 32;
  const positions = new Map<number, number[]>();
  for (let j = bLo; j < bHi; j++) {
    const id = b[j] as number;
    const list = positions.get(id);
    if (list) list.push(j);
    else positions.set(id, [j]);
  }
  const cursor = new Map<number, number>();
  let nextB = bLo;
  for (let i = aLo; i < aHi && nextB < bHi; i++) {
    const id = a[i] as number;
    const list = positions.get(id);
    if (!list) continue;
    let c = cursor.get(id) ?? 0;
    while (c < list.length && (list[c] as number) < nextB) c++;
    cursor.set(id, c);
    const j = list[c];
    if (j !== undefined && j - nextB <= lookahead) {
      aToB[i] = j;
      nextB = j + 1;
      cursor.set(id, c + 1);
    }
  }
  return aHi - aLo + (bHi - bLo);
}
