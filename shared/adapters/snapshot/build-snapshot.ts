/**
 * Turns a page's serialised DOM and the resource bodies the browser loaded into a self-contained
 * snapshot: scripts, event handlers, `javascript:` URLs and anything that would fetch or run code
 * removed; stylesheets, fonts and images inlined as `data:` URIs within a budget; what cannot be
 * inlined left blank, its URL kept as provenance; links made absolute; a Content-Security-Policy of
 * its own first in `<head>`. The result opens with no network access and fetches nothing live
 * wherever it is opened. It depends only on the page: the same page gives the same bytes, so
 * unchanged recaptures share one stored snapshot.
 *
 * Two halves share one format (`types.ts`): the DOM serialiser runs inside the page (one
 * `page.evaluate`, see `chromium/in-page/serialize-dom.ts`) and `buildSnapshot` does all rewriting
 * in Node, so the page is touched once and the rewriting can be tested without a browser. The
 * rooms: `sanitiser.ts` (what goes), `embedded-resources.ts` (what each element embeds),
 * `inliner.ts` (the budget and CSS), `html-serializer.ts` (the markup out),
 * `content-security-policy.ts` (the policy).
 *
 * Non-goals: shadow DOM content (not in `outerHTML`), external SVG sprites used through `<use>`,
 * iframe content, media (`<video>`/`<audio>` sources are dropped; posters are kept).
 */
import { parseHTML } from "linkedom";
import { SNAPSHOT_CONTENT_SECURITY_POLICY } from "./content-security-policy.ts";
import { rewriteEmbeddedResources, rewriteLink } from "./embedded-resources.ts";
import { doctypeOf, serializeElement } from "./html-serializer.ts";
import { createInliner } from "./inliner.ts";
import { sanitiseAttributes, shouldDrop, styleText } from "./sanitiser.ts";
import type { ElementSideData, SnapshotInput, SnapshotResult } from "./types.ts";

/** Builds the self-contained snapshot. Pure: no I/O. */
export function buildSnapshot(input: SnapshotInput): SnapshotResult {
  const { dom } = input;
  const { document } = parseHTML(dom.html);
  const inliner = createInliner(input);
  const base = dom.baseUrl || input.pageUrl;

  const elements = collectElements(document.documentElement);
  const sideData = (element: Element): ElementSideData | undefined => {
    const index = element.getAttribute(dom.markAttribute);
    if (index === null) return undefined;
    element.removeAttribute(dom.markAttribute);
    return dom.marks[Number(index)];
  };

  // Pass 1: drop what runs code, fetches on its own or is never rendered.
  const kept: Element[] = [];
  for (const element of elements) {
    if (shouldDrop(element)) element.remove();
    else kept.push(element);
  }
  const live = kept.filter((element) => element.isConnected);

  // Pass 2: styles first, so that layout-critical CSS gets the inlining budget before images.
  let hasIcon = false;
  for (const element of live) {
    const tag = element.localName;
    if (tag === "link") {
      if (rewriteLink(element, base, inliner)) hasIcon = true;
    } else if (tag === "style") {
      const data = sideData(element);
      const css = data?.kind === "style" ? data.cssText : styleText(element);
      element.textContent = inliner.css(css, base, 0, new Set());
    }
  }

  // Pass 3: attributes and embedded resources, in document order.
  for (const element of live) {
    if (!element.isConnected) continue;
    const data = sideData(element);
    sanitiseAttributes(element, base);
    rewriteEmbeddedResources(element, data, base, inliner);
  }

  if (dom.adoptedCss) {
    const style = document.createElement("style");
    style.textContent = inliner.css(dom.adoptedCss, base, 0, new Set());
    headOf(document).append(style);
  }
  addProvenance(document, input, hasIcon);

  return { html: `${doctypeOf(dom)}${serializeElement(document.documentElement)}`, stats: inliner.stats };
}

/** Elements in document order, including template contents (querySelectorAll skips them). */
function collectElements(root: Element): Element[] {
  const out: Element[] = [];
  const stack: Node[] = [root];
  while (stack.length > 0) {
    const node = stack.pop() as Node;
    if (node.nodeType === 1) out.push(node as Element);
    const children = node.childNodes;
    for (let i = children.length - 1; i >= 0; i--) {
      const child = children[i];
      if (child) stack.push(child);
    }
  }
  return out;
}

/**
 * The document's `<head>`, made the first child of `<html>`: a script may have put content before
 * it, and a parser that meets content there starts the body, where a `<meta http-equiv>` would be
 * ignored. (linkedom's `document.head` would answer such a document with a new, empty head.)
 */
function headOf(document: Document): Element {
  const root = document.documentElement;
  const head =
    Array.from(root.children).find((child) => child.localName === "head") ?? document.createElement("head");
  if (root.firstChild !== head) root.prepend(head);
  return head;
}

/** The policy, the charset, the page's URL and (without an icon of its own) an empty icon. */
function addProvenance(document: Document, input: SnapshotInput, hasIcon: boolean): void {
  const head = headOf(document);
  const meta = (attributes: Record<string, string>) => {
    const element = document.createElement("meta");
    for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
    return element;
  };
  const added: Element[] = [
    // First: a policy applies only to what the parser meets after it.
    meta({ "http-equiv": "Content-Security-Policy", content: SNAPSHOT_CONTENT_SECURITY_POLICY }),
    meta({ charset: "utf-8" }),
    meta({ name: "palimpsest:original-url", content: input.pageUrl }),
  ];
  if (!hasIcon) {
    // Without an icon link, browsers request /favicon.ico from wherever the snapshot is served.
    const icon = document.createElement("link");
    icon.setAttribute("rel", "icon");
    icon.setAttribute("href", "data:,");
    added.push(icon);
  }
  head.prepend(...added);
}
