/**
 * What an element of the snapshot embeds: stylesheets and icons through `<link>`, images, posters,
 * backgrounds, canvas pixels. Each becomes a `data:` URI when the inliner has it within budget.
 * Anything else that would fetch (frames, objects, media, a resource over a cap or never loaded)
 * is left blank: the attribute goes, and `data-palimpsest-<name>` keeps its URL as provenance.
 */
import type { Inliner } from "./inliner.ts";
import { relTokens } from "./sanitiser.ts";
import type { ElementSideData } from "./types.ts";
import { absoluteUrl, isNetworkUrl, isScriptUrl } from "./urls.ts";

/**
 * Inlines a stylesheet link as a `<style>`, an icon as a `data:` href (a missing icon goes). A
 * stylesheet that cannot be inlined is left blank. Returns true when the link is an icon that stays.
 */
export function rewriteLink(link: Element, base: string, inliner: Inliner): boolean {
  const rels = relTokens(link);
  const href = link.getAttribute("href");
  const absolute = href ? absoluteUrl(href, base) : undefined;
  if (rels.includes("stylesheet")) {
    const sheet = absolute ? inliner.stylesheet(absolute) : undefined;
    if (sheet === undefined) {
      if (absolute) blankAttribute(link, "href", absolute);
      return false;
    }
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

/** Inlines or blanks what the element embeds, after its attributes were sanitised. */
export function rewriteEmbeddedResources(
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
    case "use":
      // An external sprite (a non-goal) would be fetched; in-document references stay.
      for (const name of ["href", "xlink:href"]) {
        const value = element.getAttribute(name);
        if (value && isNetworkUrl(value)) blankAttribute(element, name, value);
      }
      return;
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

/** Sets the attribute to the resource's `data:` URI, or leaves it blank when it cannot be inlined. */
function inlineAttribute(element: Element, name: string, value: string, base: string, inliner: Inliner) {
  if (/^data:/i.test(value.trim())) return;
  const absolute = absoluteUrl(value, base);
  if (absolute === undefined || !isNetworkUrl(absolute)) {
    if (absolute && isScriptUrl(absolute)) element.removeAttribute(name);
    return;
  }
  const uri = inliner.dataUri(absolute);
  if (uri === undefined) blankAttribute(element, name, absolute);
  else element.setAttribute(name, uri);
}

/** Keeps the original URL for the record without letting the element fetch it. */
function moveToDataAttribute(element: Element, name: string): void {
  const value = element.getAttribute(name);
  if (value === null) return;
  element.removeAttribute(name);
  if (isNetworkUrl(value)) element.setAttribute(provenanceAttribute(name), value);
}

/** Removes the attribute and records its (network) URL in `data-palimpsest-<name>`. */
function blankAttribute(element: Element, name: string, url: string): void {
  element.removeAttribute(name);
  element.setAttribute(provenanceAttribute(name), url);
}

/** `src` → `data-palimpsest-src`; `xlink:href` → `data-palimpsest-xlink-href`. */
const provenanceAttribute = (name: string) => `data-palimpsest-${name.replace(":", "-")}`;
