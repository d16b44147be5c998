/**
 * Whether scrolling could load more, asked before each scroll round of the settling.
 *
 * Runs inside the page: Playwright sends this function's source text, so it must be
 * self-contained and use nothing from module scope (imports here are types only, which vanish).
 */

/**
 * Whether scrolling could load more: something watches for it (counted by `trackPageActivity`),
 * or images are still lazy — those are made eager instead, which loads them without scrolling.
 */
export function pageReactsToScroll(): { watchers: number; eagerImages: number } {
  const count = (window as unknown as Record<symbol, (() => number) | undefined>)[
    Symbol.for("palimpsest:scroll-watchers")
  ];
  let eagerImages = 0;
  for (const img of Array.from(document.images)) {
    if (img.loading === "lazy") {
      img.loading = "eager";
      eagerImages++;
    }
  }
  // Without the tracker (it could not run) nothing is known: scroll, as a reader would.
  return { watchers: count ? count() : 1, eagerImages };
}
