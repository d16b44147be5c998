/** One-line human summaries of an edit, for feeds and notifications. */

import type { Edit } from "../model.ts";
import type { Change } from "./types.ts";

const EXCERPT_CHARS = 70;

/**
 * Renders an edit as one line, e.g.
 * `Major stealth edit: headline changed, 1 sentence added, 2 changed; figures changed — “40%” → “45%”`.
 * `changes` only supplies the excerpt; pass `[]` to leave it out.
 */
export function summariseEdit(edit: Edit | null, changes: readonly Change[] = []): string {
  if (edit === null) return "No meaningful change";
  const significance = edit.significance === "major" ? "Major" : "Minor";
  const head = `${significance}${edit.stealth ? " stealth" : ""} edit`;
  const has = (kind: Edit["kinds"][number]) => edit.kinds.includes(kind);
  const parts: string[] = [];
  if (has("headline")) parts.push("headline changed");
  if (has("byline")) parts.push("byline changed");
  const counts: Array<[number, string]> = [
    [edit.stats.sentencesAdded, "added"],
    [edit.stats.sentencesRemoved, "removed"],
    [edit.stats.sentencesChanged, "changed"],
    [edit.stats.sentencesMoved, "moved"],
  ];
  let first = true;
  for (const [count, verb] of counts) {
    if (count === 0) continue;
    parts.push(first ? `${count} ${count === 1 ? "sentence" : "sentences"} ${verb}` : `${count} ${verb}`);
    first = false;
  }
  const details: string[] = [];
  if (has("number")) details.push("figures changed");
  if (has("quote")) details.push("quotation changed");
  if (has("correction")) details.push("correction notice added");
  let line = `${head}: ${parts.join(", ")}`;
  if (details.length > 0) line += `; ${details.join(", ")}`;
  // The excerpt illustrates the last thing the line names: when figures changed, the figure, even
  // if the headline (which comes first among the changes) was reworded too.
  const excerpt = (has("number") ? figureExcerpt(changes) : "") || excerptOf(changes);
  return excerpt ? `${line} — ${excerpt}` : line;
}

/** The first figure that changed inside a reworded sentence of the text, as `“before” → “after”`. */
function figureExcerpt(changes: readonly Change[]): string {
  for (const change of changes) {
    if (change.op !== "replace" || change.moved || change.field !== undefined || !change.words) continue;
    const deleted = change.words.find((op) => op.op === "delete" && /\d/.test(op.text));
    const inserted = change.words.find((op) => op.op === "insert" && /\d/.test(op.text));
    if (deleted && inserted) return `${quote(deleted.text)} → ${quote(inserted.text)}`;
  }
  return "";
}

function excerptOf(changes: readonly Change[]): string {
  const replace = changes.find((change) => change.op === "replace" && !change.moved);
  if (replace) {
    const words = replace.words;
    const deleted = (words ? words.find((op) => op.op === "delete")?.text : replace.before) ?? "";
    const inserted = (words ? words.find((op) => op.op === "insert")?.text : replace.after) ?? "";
    if (deleted && inserted) return `${quote(deleted)} → ${quote(inserted)}`;
    if (inserted) return `added ${quote(inserted)}`;
    if (deleted) return `removed ${quote(deleted)}`;
  }
  const insert = changes.find((change) => change.op === "insert" && !change.moved);
  if (insert?.after) return `added ${quote(insert.after)}`;
  const removal = changes.find((change) => change.op === "delete" && !change.moved);
  if (removal?.before) return `removed ${quote(removal.before)}`;
  return "";
}

function quote(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  const chars = Array.from(flat);
  const cut =
    chars.length > EXCERPT_CHARS
      ? `${chars
          .slice(0, EXCERPT_CHARS - 1)
          .join("")
          .trimEnd()}…`
      : flat;
  return `“${cut}”`;
}
