/**
 * The diff as an HTML fragment for an inline view: the after-version's paragraphs, with removed
 * text in `<del>` and added text in `<ins>`, reworded sentences wrapped in `span.pd-changed`, and
 * moved sentences marked `pd-moved` with a shared `data-move` id. All text is escaped; the
 * fragment carries no styles or scripts, only class names:
 *
 * `div.pd-diff.pd-{none|minor|major}` > `h1.pd-title`, `p.pd-byline`, `div.pd-body` > `p.pd-p`
 * (`pd-p-ins` / `pd-p-del` when the whole paragraph was added / removed).
 */

import type { FieldChange, Row } from "./rows.ts";
import type { WordOp } from "./types.ts";

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);
}

export interface RenderInput {
  significance: "none" | "minor" | "major";
  title: string | null;
  titleChange: FieldChange | null;
  byline: string | null;
  bylineChange: FieldChange | null;
  rows: readonly Row[];
}

export function renderDiffHtml(input: RenderInput): string {
  const out: string[] = [`<div class="pd-diff pd-${input.significance}">`];
  if (input.titleChange) out.push(`<h1 class="pd-title">${renderWords(input.titleChange.words.ops)}</h1>`);
  else if (input.title) out.push(`<h1 class="pd-title">${escapeHtml(input.title)}</h1>`);
  if (input.bylineChange) out.push(`<p class="pd-byline">${renderWords(input.bylineChange.words.ops)}</p>`);
  else if (input.byline) out.push(`<p class="pd-byline">${escapeHtml(input.byline)}</p>`);
  out.push('<div class="pd-body">');
  renderBody(input.rows, out);
  out.push("</div></div>");
  return out.join("");
}

function renderBody(rows: readonly Row[], out: string[]): void {
  let paraBefore = -1;
  let paraAfter = -1;
  let items: string[] = [];
  let inserted = 0;
  let deleted = 0;
  const flush = () => {
    if (items.length === 0) return;
    const whole = inserted === items.length ? " pd-p-ins" : deleted === items.length ? " pd-p-del" : "";
    out.push(`<p class="pd-p${whole}">${items.join(" ")}</p>`);
    items = [];
    inserted = 0;
    deleted = 0;
  };
  for (const row of rows) {
    if ((row.kind === "insert" ? row.after : row.before).paragraphs !== undefined && row.kind !== "change") {
      // Whole paragraphs (large inputs): a paragraph of their own; a block of several keeps its
      // paragraph breaks as line breaks.
      flush();
      const text = (row.kind === "delete" ? row.before : row.after).text;
      // split/join: several times faster than a global replace with a million matches.
      const html = escapeHtml(text).split("\n\n").join("<br><br>");
      if (row.kind === "equal") out.push(`<p class="pd-p">${html}</p>`);
      else {
        const tag = row.kind === "insert" ? "ins" : "del";
        const moved = row.moveId === undefined ? "" : ` pd-moved" data-move="${row.moveId}`;
        out.push(`<p class="pd-p pd-p-${tag}"><${tag} class="pd-${tag}${moved}">${html}</${tag}></p>`);
      }
      paraBefore = -1;
      paraAfter = -1;
      continue;
    }
    switch (row.kind) {
      case "equal":
      case "change":
        if (row.after.para !== paraAfter) flush();
        paraBefore = row.before.para;
        paraAfter = row.after.para;
        items.push(
          row.kind === "equal"
            ? escapeHtml(row.after.text)
            : `<span class="pd-changed">${renderWords(row.words.ops)}</span>`,
        );
        break;
      case "insert":
        if (row.after.para !== paraAfter) flush();
        paraAfter = row.after.para;
        items.push(mark("ins", row.after.text, row.moveId));
        inserted++;
        break;
      case "delete":
        if (row.before.para !== paraBefore) flush();
        paraBefore = row.before.para;
        items.push(mark("del", row.before.text, row.moveId));
        deleted++;
        break;
    }
  }
  flush();
}

function mark(tag: "ins" | "del", text: string, moveId: number | undefined): string {
  const moved = moveId === undefined ? "" : ` pd-moved" data-move="${moveId}`;
  return `<${tag} class="pd-${tag}${moved}">${escapeHtml(text)}</${tag}>`;
}

function renderWords(ops: readonly WordOp[]): string {
  let html = "";
  for (const op of ops) {
    if (op.op === "equal") {
      html += escapeHtml(op.text);
      continue;
    }
    const text = op.text.trimStart();
    const lead = text.length < op.text.length ? " " : "";
    const tag = op.op === "insert" ? "ins" : "del";
    html += `${lead}<${tag} class="pd-${tag}">${escapeHtml(text)}</${tag}>`;
  }
  return html;
}
