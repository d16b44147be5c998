/** The aligned document: one row per sentence position, in reading order. Internal to the diff. */

import type { HunkClass } from "./classify.ts";
import type { Sentence } from "./sentences.ts";
import type { WordDiff } from "./word-diff.ts";

export type Row =
  | { kind: "equal"; before: Sentence; after: Sentence }
  | { kind: "delete"; before: Sentence; moveId?: number }
  | { kind: "insert"; after: Sentence; moveId?: number }
  | { kind: "change"; before: Sentence; after: Sentence; words: WordDiff; classes: HunkClass[] };

/** A title or byline that changed, with its word diff. */
export interface FieldChange {
  before: string;
  after: string;
  words: WordDiff;
  classes: HunkClass[];
}
