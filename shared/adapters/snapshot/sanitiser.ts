/**
 * What the snapshot drops: elements that run code, fetch on their own or are never rendered, and
 * attributes that do the same; every remaining URL attribute is made absolute, `javascript:` ones
 * removed.
 */
import { SAFE_ATTRIBUTE_NAME } from "./html-serializer.ts";
import { absoluteUrl, isScriptUrl } from "./urls.ts";

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
  "content-security-policy", // the snapshot brings its own (see content-security-policy.ts)
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

/** Whether the element goes from the snapshot whole. */
export function shouldDrop(element: Element): boolean {
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
export function styleText(style: Element): string {
  const text = style.textContent ?? "";
  for (let parent = style.parentElement; parent; parent = parent.parentElement) {
    if (parent.localName === "svg" || parent.localName === "math") {
      return text.replace(/&(amp|lt|gt|nbsp);/g, (_m, name: string) => SERIALISER_ESCAPES[name] ?? "");
    }
  }
  return text;
}

const SERIALISER_ESCAPES: Record<string, string> = { amp: "&", lt: "<", gt: ">", nbsp: "\u00a0" };

/** The link's `rel` tokens, lower-cased. */
export const relTokens = (element: Element) =>
  (element.getAttribute("rel") ?? "").toLowerCase().split(/\s+/).filter(Boolean);

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

/** Drops event handlers and fetching attributes; makes URL attributes absolute. */
export function sanitiseAttributes(element: Element, base: string): void {
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
    if (isScriptUrl(absolute)) element.removeAttribute(attribute.name);
    else if (absolute !== attribute.value) element.setAttribute(attribute.name, absolute);
  }
}
