/**
 * Gets consent banners out of the way before the page is settled and again before it is taken.
 *
 * Runs inside the page: Playwright sends this function's source text, so it must be
 * self-contained and use nothing from module scope (imports here are types only, which vanish).
 */

/**
 * Gets consent banners out of the way: clicks a clearly-accepting button inside an element that
 * looks like a banner (when `clickConsent`), then removes fixed overlays that still look like one and
 * undoes the scroll lock they set. Optionally scrolls back to the top
 * (so sticky headers sit where a reader sees them). Returns how many banners it dealt with.
 */
export function tidyPage(options: { clickConsent: boolean; scrollToTop: boolean }): number {
  const KEYWORDS =
    /cookie|consent|gdpr|\bcmp\b|cmp-|-cmp|privacy|onetrust|didomi|cookiebot|usercentrics|truste|sp_message|fc-consent|qc-cmp/i;
  const ACCEPT =
    /^(accept|accept all|accept all cookies|accept cookies|accept and close|accept & close|allow|allow all|allow all cookies|allow cookies|i accept|agree|i agree|agree and close|agree & close|yes, i agree|ok|okay|got it|i understand|alle akzeptieren|akzeptieren|zustimmen|alle zulassen|tout accepter|accepter|j'accepte|aceptar|aceptar todo|accetta|accetta tutto|accetto|accepteren|alles accepteren|akkoord|godkänn|aceitar|aceitar tudo|zaakceptuj)$/i;
  // A banner is short; an element holding the whole article (or the page) is not one.
  const MAX_BANNER_TEXT = 5_000;
  const isBanner = (el: Element) => {
    if (el === document.body || el === document.documentElement || !el.isConnected) return false;
    const className = typeof el.className === "string" ? el.className : "";
    const label = `${el.id} ${className} ${el.getAttribute("aria-label") ?? ""}`;
    return KEYWORDS.test(label) && (el.textContent ?? "").length < MAX_BANNER_TEXT;
  };
  const candidates = () =>
    Array.from(document.querySelectorAll("[id], [class], [aria-label]")).filter(isBanner);
  let handled = 0;

  if (options.clickConsent) {
    for (const banner of candidates()) {
      if (!banner.isConnected) continue;
      const controls = banner.querySelectorAll(
        "button, [role='button'], input[type='button'], input[type='submit'], a",
      );
      for (const control of Array.from(controls)) {
        const text = (control.textContent || (control as HTMLInputElement).value || "")
          .replace(/\s+/g, " ")
          .trim();
        if (!ACCEPT.test(text) || control.getClientRects().length === 0) continue;
        // Never follow a link or submit a form: that would navigate away from the article.
        if (control instanceof HTMLAnchorElement) {
          const href = (control.getAttribute("href") ?? "").trim();
          if (href !== "" && !href.startsWith("#") && !/^javascript:/i.test(href)) continue;
        }
        if ((control instanceof HTMLButtonElement || control instanceof HTMLInputElement) && control.form) {
          if (control.type === "submit") continue;
        }
        (control as HTMLElement).click();
        handled++;
        break;
      }
    }
  }

  let removed = 0;
  for (const banner of candidates()) {
    // The keyword may sit on an inner element of a fixed wrapper: look a few levels up, but only
    // while the banner is most of the wrapper (a "Privacy" link must not take a sticky header along).
    const bannerText = (banner.textContent ?? "").length;
    let target: Element | null = banner;
    for (let depth = 0; target && depth < 4; depth++, target = target.parentElement) {
      if (target === document.body || target === document.documentElement || !target.isConnected) break;
      if ((target.textContent ?? "").length > bannerText * 2 + 20) break;
      const position = getComputedStyle(target).position;
      const modal =
        target.getAttribute("aria-modal") === "true" || /dialog/.test(target.getAttribute("role") ?? "");
      if (position === "fixed" || position === "sticky" || modal) {
        if ((target.textContent ?? "").length < MAX_BANNER_TEXT) {
          target.remove();
          removed++;
        }
        break;
      }
    }
  }
  if (removed > 0) {
    // Banners lock scrolling while shown; the page never gets to undo that for a removed one.
    for (const el of [document.documentElement, document.body]) {
      if (el && getComputedStyle(el).overflowY === "hidden")
        el.style.setProperty("overflow-y", "visible", "important");
    }
  }
  if (options.scrollToTop) window.scrollTo({ top: 0, behavior: "instant" });
  return handled + removed;
}
