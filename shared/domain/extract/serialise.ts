import { BLOCK_TAGS, collapseWhitespace, ELEMENT_NODE, HEADING_TAGS, TEXT_NODE } from "./dom.ts";

/** One paragraph of extracted text and what kind of element it came from. */
export interface Paragraph {
  text: string;
  /** 1-6 for a heading, 0 otherwise. */
  headingLevel: number;
  /** Share of the paragraph's characters that sit inside links (0-1). */
  linkDensity: number;
}

/**
 * Turns content elements into paragraphs: every block element (and a double `<br>`) starts a
 * new paragraph, inline runs are joined with whitespace collapsed, table cells of a row are
 * joined with " | ", and each heading is a paragraph of its own.
 */
export function serialiseParagraphs(roots: readonly Element[]): Paragraph[] {
  const writer = new ParagraphWriter();
  for (const root of roots) {
    writer.flush();
    writer.visit(root);
  }
  writer.flush();
  return writer.paragraphs;
}

class ParagraphWriter {
  readonly paragraphs: Paragraph[] = [];
  private parts: string[] = [];
  private headingLevel = 0;
  private linkChars = 0;
  private allChars = 0;
  private pendingBreaks = 0;

  flush(): void {
    this.pendingBreaks = 0;
    if (this.parts.length > 0) {
      const text = collapseWhitespace(this.parts.join("")).replace(/^\|\s*|\s*\|$/g, "");
      if (text !== "") {
        const linkDensity = this.allChars === 0 ? 0 : this.linkChars / this.allChars;
        this.paragraphs.push({ text, headingLevel: this.headingLevel, linkDensity });
      }
    }
    this.parts = [];
    this.headingLevel = 0;
    this.linkChars = 0;
    this.allChars = 0;
  }

  visit(el: Element, inLink = false): void {
    const tag = el.localName;
    if (tag === "br") {
      // One <br> is a line break inside a paragraph; two in a row separate paragraphs.
      this.pendingBreaks++;
      if (this.pendingBreaks >= 2) this.flush();
      else this.parts.push(" ");
      return;
    }
    if (tag === "img" || tag === "hr" || tag === "wbr") {
      if (tag === "hr") this.flush();
      return;
    }
    const block = BLOCK_TAGS.has(tag);
    if (block) this.flush();
    if (tag === "td" || tag === "th") this.parts.push(" | ");
    const level = HEADING_TAGS.has(tag) ? Number(tag.slice(1)) : 0;
    const linked = inLink || tag === "a";
    for (let node = el.firstChild; node !== null; node = node.nextSibling) {
      if (node.nodeType === TEXT_NODE) {
        const data = (node as Text).data;
        const chars = data.replace(/\s+/g, "").length;
        if (chars > 0) this.pendingBreaks = 0;
        this.parts.push(data);
        this.allChars += chars;
        if (linked) this.linkChars += chars;
        if (level > 0) this.headingLevel = level;
      } else if (node.nodeType === ELEMENT_NODE) {
        this.visit(node as Element, linked);
      }
    }
    if (block) this.flush();
  }
}
