/** The fallback text of a page with no article: its main text, without the page's furniture. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pageMainText } from "../../shared/domain/capture/page-text.ts";

describe("pageMainText", () => {
  it("keeps a short page's text, one paragraph per block", () => {
    const html =
      "<html><head><title>Hello</title></head><body><article><h1>Hello</h1><p>First paragraph of a local article.</p></article></body></html>";
    assert.equal(pageMainText(html), "Hello\n\nFirst paragraph of a local article.");
  });

  it("leaves out navigation, header, footer, asides, forms, scripts and hidden text", () => {
    const html = `<!DOCTYPE html><title>Notice</title>
<header><a href="/">Town Hall</a></header>
<nav><ul><li><a href="/news">News</a></li><li><a href="/events">Events</a></li></ul></nav>
<div role="banner">Banner</div>
<main><h2>Road closed</h2><p>Mill Lane is closed <b>until Friday</b>.<br>Use Church Street.</p>
<p hidden>Draft: not yet</p><span aria-hidden="true">★</span><script>var x = "script text";</script>
<style>p { color: red }</style></main>
<aside>Most read</aside><form><input name="q"><button>Search</button></form>
<footer>© Town Hall</footer>`;
    assert.equal(pageMainText(html), "Road closed\n\nMill Lane is closed until Friday. Use Church Street.");
  });

  it("is empty for a page with no text", () => {
    assert.equal(pageMainText("<html><body><nav>Menu</nav><img src=a.png></body></html>"), "");
    assert.equal(pageMainText(""), "");
  });

  it("survives hostile nesting", () => {
    const html = `<body>${"<div>".repeat(5_000)}deep text${"</div>".repeat(5_000)}</body>`;
    assert.equal(pageMainText(html), "deep text");
  });
});
