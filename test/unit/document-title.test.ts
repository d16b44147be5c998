/**
 * One `documentTitle` for the validity classifier (entities decoded, to match words) and the
 * capture's fallback title (entities kept, as every stored version has it: its text hash covers it).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { documentTitle } from "../../shared/domain/validity/page-text.ts";

/** What the capture stored as the fallback title before the two were one function (prepare-page.ts). */
function storedTitleBefore(html: string): string | null {
  const match = /<title[^>]*>([^<]*)<\/title>/i.exec(html);
  const title = match?.[1]?.replace(/\s+/g, " ").trim();
  return title ? title : null;
}

/** Titles as Chromium serializes the rendered DOM: `&`, `<`, `>` and no-break spaces escaped. */
const SERIALIZED = [
  "<html><head><title>Tides &amp; times</title></head><body></body></html>",
  "<html><head><title>\n  Council   votes\n  on &lt;harbour&gt; plan </title></head><body></body></html>",
  '<html><head><meta charset="utf-8"><title data-x="1">Ferry&nbsp;timetable – winter</title></head></html>',
  "<html><head><title>Mayor’s &quot;last word&quot; &#8212; 2026</title></head></html>",
  "<html><head><title></title></head><body><h1>No title</h1></body></html>",
  "<html><head></head><body><p>No title at all</p></body></html>",
  "<html><head><title>   </title></head></html>",
  "<html><head><TITLE>Upper case</TITLE></head></html>",
];

describe("documentTitle", () => {
  it("decodes entities and collapses whitespace for the classifier", () => {
    assert.equal(documentTitle(SERIALIZED[0] ?? ""), "Tides & times");
    assert.equal(documentTitle(SERIALIZED[1] ?? ""), "Council votes on <harbour> plan");
    assert.equal(documentTitle(SERIALIZED[2] ?? ""), "Ferry timetable – winter");
    assert.equal(documentTitle(SERIALIZED[3] ?? ""), 'Mayor’s "last word" — 2026');
  });

  it("keeps entities as the markup has them for the capture's fallback title", () => {
    assert.equal(documentTitle(SERIALIZED[0] ?? "", { entities: "kept" }), "Tides &amp; times");
    assert.equal(documentTitle(SERIALIZED[2] ?? "", { entities: "kept" }), "Ferry&nbsp;timetable – winter");
  });

  it("with entities kept, gives every serialized page the title captures stored before", () => {
    for (const html of SERIALIZED) {
      assert.equal(documentTitle(html, { entities: "kept" }), storedTitleBefore(html), html);
    }
  });

  it("is null for no title, an empty one and one of blanks", () => {
    for (const html of SERIALIZED.slice(4, 7)) assert.equal(documentTitle(html), null, html);
  });
});
