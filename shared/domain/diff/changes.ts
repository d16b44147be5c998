/** The change list the API reports, from the rows of a diff. */
import type { FieldChange, Row } from "./rows.ts";
import type { Change } from "./types.ts";

/** Rows to the API's change list: runs of whole-sentence inserts/deletes merged, moves kept apart. */
export function toChanges(
  rows: readonly Row[],
  titleChange: FieldChange | null,
  bylineChange: FieldChange | null,
): Change[] {
  const changes: Change[] = [];
  if (titleChange) {
    changes.push({
      op: "replace",
      field: "title",
      before: titleChange.before,
      after: titleChange.after,
      words: titleChange.words.ops,
    });
  }
  if (bylineChange) {
    changes.push({
      op: "replace",
      field: "byline",
      before: bylineChange.before,
      after: bylineChange.after,
      words: bylineChange.words.ops,
    });
  }
  let run: { change: Change; para: number } | null = null;
  for (const row of rows) {
    if (row.kind === "equal") {
      run = null;
      continue;
    }
    if (row.kind === "change") {
      run = null;
      changes.push({ op: "replace", before: row.before.text, after: row.after.text, words: row.words.ops });
      continue;
    }
    const sentence = row.kind === "insert" ? row.after : row.before;
    const op = row.kind;
    const side = op === "insert" ? "after" : "before";
    if (row.moveId !== undefined) {
      run = null;
      changes.push({ op, [side]: sentence.text, moved: true, moveId: row.moveId });
      continue;
    }
    if (run && run.change.op === op) {
      const joiner = run.para === sentence.para ? " " : "\n\n";
      run.change[side] = `${run.change[side] ?? ""}${joiner}${sentence.text}`;
      run.para = sentence.para;
      continue;
    }
    run = { change: { op, [side]: sentence.text }, para: sentence.para };
    changes.push(run.change);
  }
  return changes;
}
