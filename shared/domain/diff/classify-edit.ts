/**
 * The edit a diff flags, judged from its rows: which kinds of change it holds, whether it is minor
 * or major, whether it is stealth, and the counts behind it.
 */
import type { Edit, EditKind, EditStats } from "../model.ts";
import { type HunkClass, hasCorrectionNotice, isStealthEdit } from "./classify.ts";
import type { FieldChange, Row } from "./rows.ts";
import type { Sentence } from "./sentences.ts";
import { foldedText, type Token } from "./tokenise.ts";
import { type ArticleForDiff, EDIT_KINDS } from "./types.ts";

/** The edit between two articles, from their rows and title/byline changes; null when none counts. */
export function classifyEdit(
  rows: readonly Row[],
  titleChange: FieldChange | null,
  bylineChange: FieldChange | null,
  before: ArticleForDiff,
  after: ArticleForDiff,
  oldSentences: readonly Sentence[],
  newSentences: readonly Sentence[],
): Edit | null {
  const kinds = new Set<EditKind>();
  let major = false;
  const stats: EditStats = {
    sentencesBefore: countSentences(oldSentences),
    sentencesAfter: countSentences(newSentences),
    sentencesAdded: 0,
    sentencesRemoved: 0,
    sentencesChanged: 0,
    sentencesMoved: 0,
    wordsBefore: countWords(oldSentences),
    wordsAfter: countWords(newSentences),
    wordsInserted: 0,
    wordsDeleted: 0,
    changeRatio: 0,
  };
  const noteClasses = (classes: readonly HunkClass[]) => {
    for (const cls of classes) {
      if (!cls.minor) major = true;
      if (cls.number) kinds.add("number");
      if (cls.quote) kinds.add("quote");
    }
  };
  for (const row of rows) {
    switch (row.kind) {
      case "equal":
        break;
      case "insert":
        if (row.moveId !== undefined) {
          stats.sentencesMoved += row.after.count;
          kinds.add("moved");
          major = true;
          break;
        }
        stats.sentencesAdded += row.after.count;
        stats.wordsInserted += row.after.words;
        kinds.add("added");
        major = true;
        if (row.after.tokens.some(isQuotedWord)) kinds.add("quote");
        if (hasCorrectionNotice(foldedText(row.after.tokens))) kinds.add("correction");
        break;
      case "delete":
        if (row.moveId !== undefined) break;
        stats.sentencesRemoved += row.before.count;
        stats.wordsDeleted += row.before.words;
        kinds.add("removed");
        major = true;
        if (row.before.tokens.some(isQuotedWord)) kinds.add("quote");
        break;
      case "change":
        stats.sentencesChanged++;
        kinds.add("changed");
        for (const hunk of row.words.hunks) {
          stats.wordsInserted += hunk.ins.filter(isWord).length;
          stats.wordsDeleted += hunk.del.filter(isWord).length;
        }
        noteClasses(row.classes);
        if (
          hasCorrectionNotice(foldedText(row.after.tokens)) &&
          !hasCorrectionNotice(foldedText(row.before.tokens))
        ) {
          kinds.add("correction");
        }
        break;
    }
  }
  if (titleChange) {
    kinds.add("headline");
    noteClasses(titleChange.classes);
    if (hasCorrectionNotice(titleChange.after) && !hasCorrectionNotice(titleChange.before))
      kinds.add("correction");
  }
  if (bylineChange) {
    kinds.add("byline");
    major = true;
  }
  if (kinds.size === 0) return null;
  const totalWords = stats.wordsBefore + stats.wordsAfter;
  stats.changeRatio =
    totalWords === 0 ? 0 : round4(Math.min(1, (stats.wordsInserted + stats.wordsDeleted) / totalWords));
  return {
    significance: major ? "major" : "minor",
    kinds: EDIT_KINDS.filter((kind) => kinds.has(kind)),
    stealth: isStealthEdit(before.modifiedTime, after.modifiedTime),
    stats,
  };
}

function isWord(token: Token): boolean {
  return token.word;
}

function isQuotedWord(token: Token): boolean {
  return token.word && token.quoted;
}

function countSentences(sentences: readonly Sentence[]): number {
  let count = 0;
  for (const sentence of sentences) count += sentence.count;
  return count;
}

function countWords(sentences: readonly Sentence[]): number {
  let words = 0;
  for (const sentence of sentences) words += sentence.words;
  return words;
}

function round4(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
