/**
 * Word-level diff inside one changed sentence pair. Sentences are at most `maxSentenceTokens`
 * tokens (longer ones were chunked), so one pair costs at most about (2·max)² steps, and all pairs
 * together are charged to one budget; when it runs out, a pair is shown as a whole-sentence
 * replacement.
 */

import { matchSequences } from "./sequence-diff.ts";
import { joinTokensWithLeadingSpace, type Token } from "./tokenise.ts";
import type { WordOp } from "./types.ts";

/** A maximal run of deleted and inserted tokens between unchanged ones (minimal, before cleanup). */
export interface WordHunk {
  readonly del: readonly Token[];
  readonly ins: readonly Token[];
}

export interface WordDiff {
  /** Minimal hunks, for classification: each is as small as the alignment allows. */
  hunks: WordHunk[];
  /** Display runs after merging tiny islands of unchanged words into the edits around them. */
  ops: WordOp[];
  coarse: boolean;
}

export interface WordBudget {
  remaining: number;
  work: number;
  exhausted: boolean;
}

type Segment =
  | { equal: true; before: Token[]; after: Token[] }
  | { equal: false; del: Token[]; ins: Token[] };

export function diffWords(
  before: readonly Token[],
  after: readonly Token[],
  ids: Map<string, number>,
  budget: WordBudget,
): WordDiff {
  const a = toIds(before, ids);
  const b = toIds(after, ids);
  let aToB: Int32Array;
  let coarse = false;
  if (budget.remaining > 0) {
    const match = matchSequences(a, b, Math.min(budget.remaining, (a.length + b.length + 1) ** 2));
    budget.remaining -= match.work;
    budget.work += match.work;
    aToB = match.aToB;
    coarse = match.coarse;
  } else {
    budget.exhausted = true;
    aToB = new Int32Array(a.length).fill(-1);
    coarse = true;
  }
  const segments = toSegments(before, after, aToB);
  const hunks: WordHunk[] = [];
  for (const segment of segments) if (!segment.equal) hunks.push({ del: segment.del, ins: segment.ins });
  return { hunks, ops: toOps(mergeSmallEqualities(segments)), coarse };
}

function toIds(tokens: readonly Token[], ids: Map<string, number>): Int32Array {
  const out = new Int32Array(tokens.length);
  for (let k = 0; k < tokens.length; k++) {
    const key = (tokens[k] as Token).key;
    let id = ids.get(key);
    if (id === undefined) {
      id = ids.size;
      ids.set(key, id);
    }
    out[k] = id;
  }
  return out;
}

function toSegments(before: readonly Token[], after: readonly Token[], aToB: Int32Array): Segment[] {
  const segments: Segment[] = [];
  let i = 0;
  let j = 0;
  while (i < before.length || j < after.length) {
    if (i < before.length && j < after.length && aToB[i] === j) {
      const equal = { equal: true as const, before: [] as Token[], after: [] as Token[] };
      while (i < before.length && j < after.length && aToB[i] === j) {
        equal.before.push(before[i++] as Token);
        equal.after.push(after[j++] as Token);
      }
      segments.push(equal);
      continue;
    }
    const change = { equal: false as const, del: [] as Token[], ins: [] as Token[] };
    while (i < before.length && aToB[i] === -1) change.del.push(before[i++] as Token);
    const target = i < before.length ? (aToB[i] as number) : after.length;
    while (j < target) change.ins.push(after[j++] as Token);
    segments.push(change);
  }
  return segments;
}

/**
 * Readability cleanup in the spirit of diff-match-patch's semantic cleanup: an unchanged island no
 * longer than the edits on both sides of it ("the", ",") is folded into one larger edit, so a
 * rewritten clause reads as one replacement rather than confetti.
 */
function mergeSmallEqualities(input: Segment[]): Segment[] {
  let segments = input;
  for (let pass = 0; pass < 4; pass++) {
    let merged = false;
    const out: Segment[] = [];
    for (let s = 0; s < segments.length; s++) {
      const segment = segments[s] as Segment;
      const prev = out[out.length - 1];
      const next = segments[s + 1];
      if (segment.equal && prev && !prev.equal && next && !next.equal) {
        const size = segment.after.length;
        const words = segment.after.filter((token) => token.word).length;
        if (
          words <= 2 &&
          size <= Math.max(prev.del.length, prev.ins.length) &&
          size <= Math.max(next.del.length, next.ins.length)
        ) {
          out[out.length - 1] = {
            equal: false,
            del: [...prev.del, ...segment.before, ...next.del],
            ins: [...prev.ins, ...segment.after, ...next.ins],
          };
          s++;
          merged = true;
          continue;
        }
      }
      out.push(segment);
    }
    segments = out;
    if (!merged) break;
  }
  return segments;
}

function toOps(segments: Segment[]): WordOp[] {
  const ops: WordOp[] = [];
  for (const segment of segments) {
    if (segment.equal) ops.push({ op: "equal", text: joinTokensWithLeadingSpace(segment.after) });
    else {
      if (segment.del.length > 0) ops.push({ op: "delete", text: joinTokensWithLeadingSpace(segment.del) });
      if (segment.ins.length > 0) ops.push({ op: "insert", text: joinTokensWithLeadingSpace(segment.ins) });
    }
  }
  const first = ops[0];
  if (first) first.text = first.text.trimStart();
  return ops;
}
