/** Links as a document gives them, made absolute. Pure. */

/** An absolute http(s) URL for `href` against `base`, or undefined (other schemes, garbage). */
export function resolveHttpUrl(href: string | null | undefined, base: string): string | undefined {
  const trimmed = href?.trim();
  if (!trimmed) return undefined;
  try {
    const url = new URL(trimmed, base);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/** A title as text: outlets put markup in titles (CDATA, `type="html"`) that readers show as text. */
export function cleanTitle(title: string | null | undefined): string | undefined {
  const text = title
    ?.replace(/<\/?[a-z][^>]*>/gi, "")
    .replace(/\s+/g, " ")
    .trim();
  return text ? text : undefined;
}
