/**
 * HTML out of the snapshot builder's DOM, and the doctype and rendered markup of a serialised page.
 */
import type { SerializedDocument } from "./types.ts";

/** XML-name-like attribute names only: anything odder is not worth the risk of a parser disagreement. */
export const SAFE_ATTRIBUTE_NAME = /^[a-zA-Z_:][-\w:.]*$/;

/** The rendered DOM as `page.content()` would give it: doctype plus markup, marks removed. */
export function renderedHtmlOf(dom: SerializedDocument): string {
  const marks = new RegExp(` ${dom.markAttribute.replace(/[^\w-]/g, "")}="\\d+"`, "g");
  return `${doctypeOf(dom)}${dom.html.replace(marks, "")}`;
}

/** The page's doctype, written out again when it is well formed; "" when it has none. */
export function doctypeOf(dom: SerializedDocument): string {
  const doctype = dom.doctype;
  if (!doctype || !/^[a-z]+$/i.test(doctype.name)) return "";
  // Public and system ids select quirks or limited-quirks mode, so they are kept when well formed.
  const quoted = (value: string) => (/^[^"<>]*$/.test(value) ? `"${value}"` : undefined);
  const publicId = doctype.publicId ? quoted(doctype.publicId) : undefined;
  const systemId = doctype.systemId ? quoted(doctype.systemId) : undefined;
  if (publicId) return `<!DOCTYPE ${doctype.name} PUBLIC ${publicId}${systemId ? ` ${systemId}` : ""}>`;
  if (systemId) return `<!DOCTYPE ${doctype.name} SYSTEM ${systemId}>`;
  return `<!DOCTYPE ${doctype.name}>`;
}

const VOID_ELEMENTS = new Set([
  "area",
  "base",
  "basefont",
  "bgsound",
  "br",
  "col",
  "embed",
  "frame",
  "hr",
  "img",
  "input",
  "keygen",
  "link",
  "meta",
  "param",
  "source",
  "track",
  "wbr",
]);

const escapeText = (text: string) =>
  text.replace(/[&<>\u00a0]/g, (c) =>
    c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : "&nbsp;",
  );
const escapeAttribute = (value: string) =>
  value.replace(/[&"<>\u00a0]/g, (c) =>
    c === "&" ? "&amp;" : c === '"' ? "&quot;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : "&nbsp;",
  );

/**
 * HTML serialisation, written out because linkedom's own leaves `<title>` text and `&` in
 * attributes unescaped: a page title of `</title><script>…` would come back as a live script.
 * Only an HTML `<style>` keeps raw text (with `</style` neutralised); every other text node is
 * escaped, including a `<style>` inside `<svg>`/`<math>`, whose text the HTML parser tokenises as
 * markup. Comments are dropped (a DOM comment may contain `-->`).
 */
export function serializeElement(root: Element): string {
  const out: string[] = [];
  const walk = (element: Element, foreign: boolean) => {
    const tag = element.localName;
    const inForeign = foreign || tag === "svg" || tag === "math";
    out.push("<", tag);
    for (const attribute of Array.from(element.attributes)) {
      if (!SAFE_ATTRIBUTE_NAME.test(attribute.name)) continue;
      out.push(" ", attribute.name, '="', escapeAttribute(attribute.value), '"');
    }
    out.push(">");
    if (VOID_ELEMENTS.has(tag)) return;
    const rawText = tag === "style" && !inForeign;
    for (const child of Array.from(element.childNodes)) {
      if (child.nodeType === 1) walk(child as Element, inForeign);
      else if (child.nodeType === 3) {
        const text = (child as Text).data;
        out.push(rawText ? text.replace(/<\/(style)/gi, "<\\/$1") : escapeText(text));
      }
    }
    out.push("</", tag, ">");
  };
  walk(root, false);
  return out.join("");
}
