/**
 * The DOM serialiser: the one `page.evaluate` that takes the page for the snapshot, the rendered
 * HTML and extraction (see `snapshot/build-snapshot.ts` for the half that runs in Node).
 *
 * Runs inside the page: Playwright sends this function's source text, so it must be
 * self-contained and use nothing from module scope (imports here are types only, which vanish).
 */
import type { ElementSideData, SerializedDocument } from "../../snapshot/types.ts";

/**
 * Serialises the live DOM once. Marks the elements whose state is not in the markup (the image
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
