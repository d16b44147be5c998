/**
 * Turns a page's serialised DOM and the resource bodies the browser loaded into a self-contained
 * snapshot: scripts, event handlers, `javascript:` URLs and anything that would fetch or run code
 * removed; stylesheets, fonts and images inlined as `data:` URIs within a budget; every remaining
 * URL made absolute. The result opens with no network access. It depends only on the page: the
 * same page gives the same bytes, so unchanged recaptures share one stored snapshot.
 *
 * Two halves share one format: `serializeDomInPage` runs inside the page (one `page.evaluate`) and
 * `buildSnapshot` does all rewriting in Node, so the page is touched once and the rewriting can be
 * tested without a browser.
 *
 * Non-goals: shadow DOM content (not in `outerHTML`), external SVG sprites used through `<use>`,
 * iframe content, media (`<video>`/`<audio>` sources are dropped; posters are kept).
 */
import { parseHTML } from "linkedom";

/** Side data for one marked element; the element carries `markAttribute="<index>"`. */
export type ElementSideData =
  | { kind: "img"; currentSrc: string }
  | { kind: "style"; cssText: string }
  | { kind: "canvas"; dataUrl: string };

/** What `serializeDomInPage` returns: plain JSON, cheap to move out of the page. */
export interface SerializedDocument {
  /** `document.documentElement.outerHTML`, with `markAttribute` on elements that have side data. */
  html: string;
  doctype: { name: string; publicId: string; systemId: string } | null;
  /** `document.baseURI`: what relative URLs in the document resolve against (honours `<base>`). */
  baseUrl: string;
  markAttribute: string;
  marks: ElementSideData[];
  /** Rules of `document.adoptedStyleSheets`, which have no element in the DOM. */
  adoptedCss: string;
  pageWidth: number;
  pageHeight: number;
}

/** A response body the browser received for a subresource. */
export interface CollectedResource {
  /** The URL the body came from (after redirects); relative URLs inside CSS resolve against it. */
  url: string;
  contentType: string;
  body: Uint8Array;
}

export interface SnapshotInput {
  dom: SerializedDocument;
  /** Looks a resource up by absolute URL without fragment. */
  resources: ReadonlyMap<string, CollectedResource>;
  /** The page's URL, recorded in the snapshot. */
  pageUrl: string;
  /**
   * ISO 8601 capture time. Not written into the snapshot: an unchanged page then gives the same
   * bytes, so every recapture of it shares one stored snapshot (artifacts are content-addressed);
   * the capture record, the version and Memento's `Memento-Datetime` carry the time instead.
   * @deprecated unused; kept so that existing callers compile.
   */
  capturedAt?: string;
  /** Largest single resource inlined, in bytes of the resource body. */
  resourceMaxBytes: number;
  /** Total bytes inlined into one snapshot, counted per occurrence. */
  totalMaxBytes: number;
}

export interface SnapshotResult {
  html: string;
  stats: {
    /** Occurrences replaced by a `data:` URI. */
    inlined: number;
    /** Bytes of resource bodies inlined. */
    inlinedBytes: number;
    /** Occurrences left as absolute URLs because a cap was reached. */
    overBudget: number;
    /** Occurrences left as absolute URLs because the browser never loaded the resource. */
    missing: number;
  };
}

/**
 * Serialises the live DOM once. Runs INSIDE the page via `page.evaluate`, so it must not reference
 * anything outside its own body. Marks the elements whose state is not in the markup (the image
 * candidate the browser picked, CSSOM rules inserted by script, canvas pixels), serialises, then
 * removes the marks again.
 */
export function serializeDomInPage(markAttribute: string): SerializedDocument {
  const marks: ElementSideData[] = [];
  const marked: Element[] = [];
  const mark = (element: Element, data: ElementSideData) => {
    element.setAttribute(markAttribute, String(marks.length));
    marks.push(data);
    marked.push(element);
  };
  for (const img of Array.from(document.images)) {
    if (img.currentSrc) mark(img, { kind: "img", currentSrc: img.currentSrc });
  }
  for (const style of Array.from(document.querySelectorAll("style"))) {
    // CSS-in-JS libraries add rules with insertRule(), which leaves the element's text empty or
    // stale; the CSSOM is then the only place the page's styles live.
    let rules: CSSRuleList;
    try {
      if (!style.sheet) continue;
      rules = style.sheet.cssRules;
    } catch {
      continue;
    }
    if (rules.length === 0) continue;
    let stale = (style.textContent ?? "").trim() === "";
    if (!stale) {
      try {
        const probe = new CSSStyleSheet();
        probe.replaceSync(style.textContent ?? "");
        const live = Array.from(rules).filter((r) => !(r instanceof CSSImportRule)).length;
        stale = probe.cssRules.length !== live;
      } catch {
        stale = false;
      }
    }
    if (stale) mark(style, { kind: "style", cssText: Array.from(rules, (r) => r.cssText).join("\n") });
  }
  for (const canvas of Array.from(document.querySelectorAll("canvas"))) {
    const area = canvas.width * canvas.height;
    if (area === 0 || area > 2_000_000) continue;
    try {
      mark(canvas, { kind: "canvas", dataUrl: canvas.toDataURL("image/png") });
    } catch {
      // A canvas tainted by cross-origin pixels cannot be read; it stays blank.
    }
  }
  let adoptedCss = "";
  try {
    adoptedCss = document.adoptedStyleSheets
      .flatMap((sheet) => Array.from(sheet.cssRules, (r) => r.cssText))
      .join("\n");
  } catch {
    adoptedCss = "";
  }
  const root = document.documentElement;
  const html = root.outerHTML;
  for (const element of marked) element.removeAttribute(markAttribute);
  const doctype = document.doctype
    ? {
        name: document.doctype.name,
        publicId: document.doctype.publicId,
        systemId: document.doctype.systemId,
      }
    : null;
  return {
    html,
    doctype,
    baseUrl: document.baseURI,
    markAttribute,
    marks,
    adoptedCss,
    pageWidth: Math.max(root.scrollWidth, document.body?.scrollWidth ?? 0),
    pageHeight: Math.max(root.scrollHeight, document.body?.scrollHeight ?? 0),
  };
}

/** The rendered DOM as `page.content()` would give it: doctype plus markup, marks removed. */
export function renderedHtmlOf(dom: SerializedDocument): string {
  const marks = new RegExp(` ${dom.markAttribute.replace(/[^\w-]/g, "")}="\\d+"`, "g");
  return `${doctypeOf(dom)}${dom.html.replace(marks, "")}`;
}

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

// ---------------------------------------------------------------------------------------------
// Elements

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

const DROPPED_ELEMENTS = new Set([
  "script",
  "noscript", // rendered nothing in the scripted page; in a viewer without JS it would show nags and fetch pixels
  "base", // relative URLs are resolved against it before it goes
  "noembed",
  "noframes",
  "applet",
  "portal",
  "fencedframe",
]);

const DROPPED_HTTP_EQUIV = new Set([
  "refresh",
  "set-cookie",
  "content-security-policy", // could forbid the data: URIs the snapshot relies on
  "content-security-policy-report-only",
  "content-type", // replaced by <meta charset="utf-8">
]);

const FETCHING_LINK_RELS = new Set([
  "preload",
  "prefetch",
  "preconnect",
  "dns-prefetch",
  "modulepreload",
  "prerender",
  "manifest",
  "serviceworker",
  "import",
  "expect",
  "compression-dictionary",
]);

function shouldDrop(element: Element): boolean {
  const tag = element.localName;
  if (DROPPED_ELEMENTS.has(tag)) return true;
  if (tag === "meta") {
    if (element.hasAttribute("charset")) return true;
    return DROPPED_HTTP_EQUIV.has((element.getAttribute("http-equiv") ?? "").trim().toLowerCase());
  }
  if (tag === "link") {
    const rels = relTokens(element);
    if (rels.some((rel) => FETCHING_LINK_RELS.has(rel))) return true;
    if (rels.includes("stylesheet") && rels.includes("alternate")) return true;
    return false;
  }
  if (tag === "source") {
    // <picture>: the <img> keeps the candidate the browser chose. <video>/<audio>: media is not archived.
    return true;
  }
  if (tag === "track") return true;
  // SMIL can animate an href into a javascript: URL.
  if (tag === "set" || tag === "animate") {
    return /^(href|xlink:href|on)/i.test((element.getAttribute("attributeName") ?? "").trim());
  }
  return false;
}

/**
 * The CSS of a `<style>` element as linkedom parsed it. Browsers serialise the text of a `<style>`
 * inside `<svg>`/`<math>` escaped (`&gt;`), while linkedom reads every `<style>` as raw text, so
 * there the escapes are still in; the serialiser escapes such text again on the way out.
 */
function styleText(style: Element): string {
  const text = style.textContent ?? "";
  for (let parent = style.parentElement; parent; parent = parent.parentElement) {
    if (parent.localName === "svg" || parent.localName === "math") {
      return text.replace(/&(amp|lt|gt|nbsp);/g, (_m, name: string) => SERIALISER_ESCAPES[name] ?? "");
    }
  }
  return text;
}

const SERIALISER_ESCAPES: Record<string, string> = { amp: "&", lt: "<", gt: ">", nbsp: "\u00a0" };

const relTokens = (element: Element) =>
  (element.getAttribute("rel") ?? "").toLowerCase().split(/\s+/).filter(Boolean);

/** Returns true when the link is an icon that stays in the snapshot. */
function rewriteLink(link: Element, base: string, inliner: Inliner): boolean {
  const rels = relTokens(link);
  const href = link.getAttribute("href");
  const absolute = href ? absoluteUrl(href, base) : undefined;
  if (rels.includes("stylesheet")) {
    const sheet = absolute ? inliner.stylesheet(absolute) : undefined;
    if (sheet === undefined) return false; // stays a <link> with an absolute href (pass 3)
    const style = link.ownerDocument.createElement("style");
    const media = link.getAttribute("media");
    if (media) style.setAttribute("media", media);
    style.textContent = sheet;
    link.replaceWith(style);
    return false;
  }
  if (rels.some((rel) => rel === "icon" || rel === "apple-touch-icon" || rel === "mask-icon")) {
    const data = absolute ? inliner.dataUri(absolute) : undefined;
    if (data === undefined) {
      link.remove(); // browsers fetch icons eagerly; a missing one is not worth a request
      return false;
    }
    link.setAttribute("href", data);
    return true;
  }
  return false;
}

const URL_ATTRIBUTES = new Set([
  "href",
  "xlink:href",
  "src",
  "action",
  "formaction",
  "poster",
  "background",
  "cite",
  "longdesc",
  "data",
  "codebase",
]);

/** Attributes whose only purpose is to fetch or run something. */
const DROPPED_ATTRIBUTES = new Set(["ping", "srcdoc", "manifest", "integrity", "nonce", "attributionsrc"]);

// XML-name-like names only: anything odder is not worth the risk of a parser disagreement.
const SAFE_ATTRIBUTE_NAME = /^[a-zA-Z_:][-\w:.]*$/;

function sanitiseAttributes(element: Element, base: string): void {
  for (const attribute of Array.from(element.attributes)) {
    const name = attribute.name.toLowerCase();
    if (name.startsWith("on") || DROPPED_ATTRIBUTES.has(name) || !SAFE_ATTRIBUTE_NAME.test(name)) {
      element.removeAttribute(attribute.name);
      continue;
    }
    if (!URL_ATTRIBUTES.has(name)) continue;
    const value = attribute.value.trim();
    if (value === "" || value.startsWith("#") || /^data:/i.test(value)) continue;
    const absolute = absoluteUrl(value, base);
    if (absolute === undefined) continue;
    if (/^(javascript|vbscript):/i.test(absolute)) element.removeAttribute(attribute.name);
    else if (absolute !== attribute.value) element.setAttribute(attribute.name, absolute);
  }
}

function rewriteEmbeddedResources(
  element: Element,
  data: ElementSideData | undefined,
  base: string,
  inliner: Inliner,
): void {
  const tag = element.localName;
  const style = element.getAttribute("style");
  if (style && /url\(/i.test(style)) element.setAttribute("style", inliner.css(style, base, 0, new Set()));

  switch (tag) {
    case "img": {
      // Keep exactly the candidate the browser displayed; srcset would let a viewer pick another one.
      const chosen = data?.kind === "img" ? data.currentSrc : element.getAttribute("src");
      element.removeAttribute("srcset");
      element.removeAttribute("sizes");
      element.removeAttribute("loading");
      if (chosen) inlineAttribute(element, "src", chosen, base, inliner);
      return;
    }
    case "input":
      if ((element.getAttribute("type") ?? "").toLowerCase() === "image") {
        const src = element.getAttribute("src");
        if (src) inlineAttribute(element, "src", src, base, inliner);
      }
      return;
    case "video":
    case "audio": {
      moveToDataAttribute(element, "src");
      element.removeAttribute("autoplay");
      element.setAttribute("preload", "none");
      const poster = element.getAttribute("poster");
      if (poster) inlineAttribute(element, "poster", poster, base, inliner);
      return;
    }
    case "iframe":
    case "frame":
      moveToDataAttribute(element, "src");
      element.setAttribute("sandbox", "");
      for (const child of Array.from(element.childNodes)) child.remove();
      return;
    case "object":
      moveToDataAttribute(element, "data");
      return;
    case "embed":
      moveToDataAttribute(element, "src");
      return;
    case "image":
    case "feimage": {
      for (const name of ["href", "xlink:href"]) {
        const value = element.getAttribute(name);
        if (value && !value.startsWith("#")) inlineAttribute(element, name, value, base, inliner);
      }
      return;
    }
    case "canvas":
      if (data?.kind === "canvas") {
        // A background keeps the <canvas> element (and the page's CSS selectors) intact.
        const uri = inliner.charge(data.dataUrl, Math.ceil((data.dataUrl.length * 3) / 4));
        if (uri) {
          const existing = element.getAttribute("style") ?? "";
          const separator = existing.trim() === "" || existing.trim().endsWith(";") ? "" : ";";
          element.setAttribute(
            "style",
            `${existing}${separator}background:url("${uri}") 0 0/100% 100% no-repeat`,
          );
        }
      }
      return;
    default: {
      const background = element.getAttribute("background");
      if (background) inlineAttribute(element, "background", background, base, inliner);
    }
  }
}

function inlineAttribute(element: Element, name: string, value: string, base: string, inliner: Inliner) {
  if (/^data:/i.test(value.trim())) return;
  const absolute = absoluteUrl(value, base);
  if (absolute === undefined || !/^https?:/i.test(absolute)) {
    if (absolute && /^(javascript|vbscript):/i.test(absolute)) element.removeAttribute(name);
    return;
  }
  element.setAttribute(name, inliner.dataUri(absolute) ?? absolute);
}

/** Keeps the original URL for the record without letting the element fetch it. */
function moveToDataAttribute(element: Element, name: string): void {
  const value = element.getAttribute(name);
  if (value === null) return;
  element.removeAttribute(name);
  if (/^https?:/i.test(value)) element.setAttribute(`data-palimpsest-${name}`, value);
}

function headOf(document: Document): HTMLHeadElement {
  if (document.head) return document.head;
  const head = document.createElement("head");
  document.documentElement.prepend(head);
  return head;
}

function addProvenance(document: Document, input: SnapshotInput, hasIcon: boolean): void {
  const head = headOf(document);
  const meta = (attributes: Record<string, string>) => {
    const element = document.createElement("meta");
    for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
    return element;
  };
  const added: Element[] = [
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

// ---------------------------------------------------------------------------------------------
// Inlining budget and CSS rewriting

interface Inliner {
  /** A data: URI for the resource, or undefined when it is missing or over a cap. */
  dataUri(absolute: string): string | undefined;
  /** The stylesheet's text, rewritten and ready to inline, or undefined when missing or over a cap. */
  stylesheet(absolute: string): string | undefined;
  /** Rewrites url() and @import in CSS text. */
  css(css: string, base: string, depth: number, seen: Set<string>): string;
  /** Charges a ready-made data URI against the budget; undefined when it does not fit. */
  charge(dataUri: string, bytes: number): string | undefined;
  stats: SnapshotResult["stats"];
}

const MAX_IMPORT_DEPTH = 4;

function createInliner(input: SnapshotInput): Inliner {
  const stats = { inlined: 0, inlinedBytes: 0, overBudget: 0, missing: 0 };
  const encoded = new Map<string, string>();

  const fits = (bytes: number) => {
    if (bytes > input.resourceMaxBytes || stats.inlinedBytes + bytes > input.totalMaxBytes) {
      stats.overBudget++;
      return false;
    }
    stats.inlined++;
    stats.inlinedBytes += bytes;
    return true;
  };
  const lookup = (absolute: string) => {
    const resource = input.resources.get(withoutFragment(absolute));
    if (!resource) stats.missing++;
    return resource;
  };

  const inliner: Inliner = {
    stats,
    charge: (dataUri, bytes) => (fits(bytes) ? dataUri : undefined),
    dataUri(absolute) {
      const resource = lookup(absolute);
      if (!resource || !fits(resource.body.byteLength)) return undefined;
      const key = withoutFragment(absolute);
      let uri = encoded.get(key);
      if (uri === undefined) {
        uri = `data:${mimeTypeOf(resource)};base64,${Buffer.from(resource.body).toString("base64")}`;
        encoded.set(key, uri);
      }
      const fragment = absolute.includes("#") ? absolute.slice(absolute.indexOf("#")) : "";
      return uri + fragment;
    },
    stylesheet(absolute) {
      const resource = lookup(absolute);
      if (!resource || !fits(resource.body.byteLength)) return undefined;
      return inliner.css(decodeCss(resource), resource.url, 0, new Set([withoutFragment(resource.url)]));
    },
    css(css, base, depth, seen) {
      const imported = css.replace(IMPORT_RULE, (rule, ...groups: unknown[]) => {
        const target = groups.slice(0, 5).find((g): g is string => typeof g === "string");
        const tail = typeof groups[5] === "string" ? groups[5] : "";
        if (target === undefined) return rule;
        const absolute = absoluteUrl(unescapeCss(target), base);
        if (absolute === undefined) return rule;
        const key = withoutFragment(absolute);
        if (depth < MAX_IMPORT_DEPTH && !seen.has(key)) {
          const resource = lookup(absolute);
          if (resource && fits(resource.body.byteLength)) {
            const text = inliner.css(decodeCss(resource), resource.url, depth + 1, new Set([...seen, key]));
            const uri = `data:text/css;charset=utf-8;base64,${Buffer.from(text).toString("base64")}`;
            return `@import url("${uri}")${tail};`;
          }
        }
        return `@import url(${cssString(absolute)})${tail};`;
      });
      return imported.replace(URL_TOKEN, (token, double?: string, single?: string, bare?: string) => {
        const raw = unescapeCss(double ?? single ?? bare ?? "").trim();
        if (raw === "" || raw.startsWith("#") || /^data:/i.test(raw)) return token;
        const absolute = absoluteUrl(raw, base);
        if (absolute === undefined || !/^https?:/i.test(absolute)) return token;
        return `url(${cssString(inliner.dataUri(absolute) ?? absolute)})`;
      });
    },
  };
  return inliner;
}

// @import url("x") media; | @import url(x) media; | @import "x" media;
const IMPORT_RULE =
  /@import\s+(?:url\(\s*(?:"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)'|((?:[^"'()\\\s]|\\.)*))\s*\)|"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)')([^;]*);?/gi;
const URL_TOKEN = /url\(\s*(?:"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)'|((?:[^"'()\\\s]|\\.)*))\s*\)/gi;

const unescapeCss = (value: string) =>
  value
    .replace(/\\([0-9a-f]{1,6})\s?/gi, (_m, hex: string) =>
      String.fromCodePoint(Number.parseInt(hex, 16) || 0xfffd),
    )
    .replace(/\\(.)/g, "$1");

const cssString = (value: string) =>
  `"${value.replace(/["\\\n\r]/g, (c) => `\\${c.charCodeAt(0).toString(16)} `)}"`;

function decodeCss(resource: CollectedResource): string {
  const declared = /charset\s*=\s*"?([^";\s]+)/i.exec(resource.contentType)?.[1];
  const inFile = /^@charset\s+"([^"]+)";/i.exec(
    Buffer.from(resource.body.subarray(0, 128)).toString("latin1"),
  )?.[1];
  let text: string;
  try {
    text = new TextDecoder(declared ?? inFile ?? "utf-8").decode(resource.body);
  } catch {
    text = new TextDecoder("utf-8").decode(resource.body);
  }
  // The text now lives in a UTF-8 document; a leftover @charset would only mislead.
  return text.replace(/^@charset\s+"[^"]*";\s*/i, "");
}

const IMAGE_SIGNATURES: Array<[string, number[]]> = [
  ["image/png", [0x89, 0x50, 0x4e, 0x47]],
  ["image/jpeg", [0xff, 0xd8, 0xff]],
  ["image/gif", [0x47, 0x49, 0x46, 0x38]],
  ["image/webp", [0x52, 0x49, 0x46, 0x46]],
];

function mimeTypeOf(resource: CollectedResource): string {
  const declared = resource.contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  if (/^[a-z]+\/[a-z0-9.+-]+$/.test(declared) && declared !== "application/octet-stream") return declared;
  // Servers often send images as octet-stream; an SVG in particular only renders with its own type.
  for (const [mime, signature] of IMAGE_SIGNATURES) {
    if (signature.every((byte, i) => resource.body[i] === byte)) return mime;
  }
  const head = Buffer.from(resource.body.subarray(0, 256)).toString("utf8");
  if (/<svg[\s>]/i.test(head)) return "image/svg+xml";
  return "application/octet-stream";
}

// ---------------------------------------------------------------------------------------------
// URLs and serialisation

function absoluteUrl(value: string, base: string): string | undefined {
  try {
    return new URL(value.trim(), base).href;
  } catch {
    return undefined;
  }
}

/** The key resources are stored under: absolute URL without its fragment. */
export function withoutFragment(url: string): string {
  const hash = url.indexOf("#");
  return hash === -1 ? url : url.slice(0, hash);
}

function doctypeOf(dom: SerializedDocument): string {
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
function serializeElement(root: Element): string {
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
