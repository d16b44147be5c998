/**
 * Answers a consent dialog in one frame: the page's own, or a consent platform's iframe.
 *
 * Runs inside the frame: Playwright sends this function's source text, so it must be
 * self-contained and use nothing from module scope (imports here are types only, which vanish).
 */

/** What the script found and did in one frame. */
export interface ConsentInFrame {
  /** The consent platform recognised, `generic` for a dialog known only by its words, null for none. */
  cmp: string | null;
  /** The choice made: refusal wherever the dialog offers it, else acceptance, else closing it. */
  action: "reject" | "continue_without_accepting" | "accept" | "close" | "none";
  /** The clicked control's text (or label), for the record. */
  label?: string;
}

/**
 * Finds a consent dialog in this frame and answers it: refuse ("Reject all", "Continue without
 * accepting") where offered, else accept, else close. Known platforms are recognised by their
 * markup; any other dialog by a consent word in its id/class/label and a button's words.
 * Only controls inside the dialog are clicked, never a link that leaves the page, never a
 * submit button of a form, never anything in a challenge or captcha. With `probe`, only reports
 * whether a dialog is still shown (`action: "none"`), clicking nothing.
 */
export function dismissConsentInFrame(options: { probe: boolean }): ConsentInFrame {
  // A refusal's words, then "continue without accepting", then acceptance, then closing; each
  // anchored so that "Accept all" never reads as a refusal nor "Cookie policy" as anything.
  const REJECT =
    /^(reject|reject all|reject all cookies|reject cookies|decline|decline all|decline all cookies|refuse|refuse all|deny|deny all|disagree|i disagree|i do not agree|do not agree|do not consent|don't agree|i don't agree|no,? thanks|necessary cookies only|only necessary|only necessary cookies|use necessary cookies only|required cookies only|required only|essential cookies only|only essential cookies|alle ablehnen|ablehnen|nur notwendige|tout refuser|refuser|rechazar|rechazar todo|rifiuta|rifiuta tutto|weigeren|alles weigeren|odrzuć|recusar)$/i;
  const CONTINUE_WITHOUT =
    /^(continue without (accepting|agreeing|consent|consenting)|continue without accepting cookies|weiter ohne (einwilligung|zustimmung)|continuer sans accepter|continuar sin aceptar|continua senza accettare)(\s*[→>›x×])?$/i;
  const ACCEPT =
    /^(accept|accept all|accept all cookies|accept cookies|accept and close|accept & close|accept and continue|allow|allow all|allow all cookies|allow cookies|i accept|agree|i agree|agree and close|agree & close|agree and proceed|yes, i agree|consent|ok|okay|got it|i understand|alle akzeptieren|akzeptieren|zustimmen|alle zulassen|tout accepter|accepter|j'accepte|aceptar|aceptar todo|accetta|accetta tutto|accetto|accepteren|alles accepteren|akkoord|godkänn|aceitar|aceitar tudo|zaakceptuj)$/i;
  const CONSENT_WORDS = /cookie|consent|gdpr|\bcmp\b|cmp-|-cmp|privacy|datenschutz/i;
  const CHALLENGE = /captcha|challenge|turnstile|datadome|perimeterx|px-block/i;
  // A dialog is short; an element holding the whole article (or the page) is not one.
  const MAX_DIALOG_TEXT = 8_000;

  type Vendor = {
    cmp: string;
    root: string;
    reject?: string;
    continueWithout?: string;
    accept?: string;
    close?: string;
  };
  // The platforms' own markup: ids, classes and test ids they ship on every site. Buttons named
  // here are still read before a refusal is claimed (a "secondary" button may be "More options").
  const VENDORS: Vendor[] = [
    {
      cmp: "onetrust",
      root: "#onetrust-banner-sdk, #onetrust-consent-sdk, #onetrust-pc-sdk",
      reject: "#onetrust-reject-all-handler, .ot-pc-refuse-all-handler",
      continueWithout: ".onetrust-close-btn-handler.banner-close-button",
      accept: "#onetrust-accept-btn-handler, #accept-recommended-btn-handler",
      close: ".onetrust-close-btn-handler",
    },
    {
      cmp: "didomi",
      root: "#didomi-host, #didomi-notice, #didomi-popup",
      reject: "#didomi-notice-disagree-button, .didomi-button-disagree",
      continueWithout: ".didomi-continue-without-agreeing",
      accept: "#didomi-notice-agree-button, .didomi-button-agree",
      close: ".didomi-popup-close",
    },
    {
      cmp: "sourcepoint",
      root: ".message-container [class*='sp_choice_type_'], #sp_message_container, [id^='sp_message_container_']",
      reject: ".sp_choice_type_13, .sp_choice_type_REJECT_ALL",
      continueWithout: ".sp_choice_type_15",
      accept: ".sp_choice_type_11, .sp_choice_type_ACCEPT_ALL",
      close: ".sp_choice_type_CLOSE, .message-stacksclose",
    },
    {
      cmp: "quantcast",
      root: "#qc-cmp2-container, .qc-cmp2-container, #qc-cmp2-ui",
      reject: ".qc-cmp2-summary-buttons button[mode='secondary'], button.qc-cmp2-reject-all",
      accept: ".qc-cmp2-summary-buttons button[mode='primary'], button.qc-cmp2-accept-all",
      close: ".qc-cmp2-close, button[aria-label='Close']",
    },
    {
      cmp: "trustarc",
      root: "#truste-consent-track, #truste-consent-content, .truste_popframe, #trustarc-banner-overlay, .pdynamicbutton",
      reject: "#truste-consent-required, .pdynamicbutton .required, .pdynamicbutton a.decline",
      accept: "#truste-consent-button, .pdynamicbutton .call",
      close: "#truste-consent-close, .truste-close-button, #truste-consent-close-button",
    },
    {
      cmp: "usercentrics",
      root: "#usercentrics-root, #usercentrics-cmp-ui, [data-testid='uc-banner-content'], #uc-center-container",
      reject: "[data-testid='uc-deny-all-button'], button.uc-deny-button, button#deny",
      accept: "[data-testid='uc-accept-all-button'], button.uc-accept-button, button#accept",
      close: "[data-testid='uc-close-button']",
    },
    {
      cmp: "funding-choices",
      root: ".fc-consent-root, .fc-dialog-container",
      reject: ".fc-cta-do-not-consent, .fc-button.fc-cta-do-not-consent",
      accept: ".fc-cta-consent",
      close: ".fc-close",
    },
  ];

  // A bot check's frame is never clicked in (an article's own address may say "challenge").
  if (window !== window.top && CHALLENGE.test(location.href)) return { cmp: null, action: "none" };

  /** The document and every open shadow root under it (Usercentrics renders into one). */
  const scopes = (): Array<Document | ShadowRoot> => {
    const out: Array<Document | ShadowRoot> = [document];
    for (let i = 0; i < out.length; i++) {
      const scope = out[i] as Document | ShadowRoot;
      for (const el of Array.from(scope.querySelectorAll("*"))) if (el.shadowRoot) out.push(el.shadowRoot);
    }
    return out;
  };
  const allScopes = scopes();
  const queryAll = (selector: string): Element[] =>
    allScopes.flatMap((scope) => Array.from(scope.querySelectorAll(selector)));

  const shown = (el: Element): boolean => {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) return false;
    const style = getComputedStyle(el);
    return style.visibility !== "hidden" && style.display !== "none" && style.opacity !== "0";
  };
  const labelOf = (el: Element): string => {
    // The words a reader sees: a button's visually-hidden helper text is not its label.
    // biome-ignore lint/performance/useDomNodeTextContent: rendered text is the point here
    const rendered = (el as HTMLElement).innerText;
    const text =
      rendered ||
      el.textContent ||
      (el as HTMLInputElement).value ||
      el.getAttribute("aria-label") ||
      el.getAttribute("title") ||
      "";
    return text.replace(/\s+/g, " ").trim();
  };
  /** Never follow a link off the page or submit a form: that would leave the article. */
  const safeToClick = (el: Element): boolean => {
    if (el instanceof HTMLAnchorElement) {
      const href = (el.getAttribute("href") ?? "").trim();
      if (href !== "" && !href.startsWith("#") && !/^javascript:/i.test(href)) return false;
    }
    if (
      (el instanceof HTMLButtonElement || el instanceof HTMLInputElement) &&
      el.form &&
      el.type === "submit"
    )
      return false;
    return true;
  };
  const click = (el: Element): void => {
    (el as HTMLElement).click();
  };

  /** Open dialogs of known platforms, in the order above. */
  const vendorDialogs: Array<{ vendor: Vendor; roots: Element[] }> = [];
  for (const vendor of VENDORS) {
    const roots = queryAll(vendor.root).filter(
      (el) => el.shadowRoot !== null || shown(el) || el.querySelector("button, [role='button'], a") !== null,
    );
    if (roots.length > 0) vendorDialogs.push({ vendor, roots });
  }

  for (const { vendor, roots } of vendorDialogs) {
    // A vendor's button is trusted for its choice unless its words name another one (a
    // "secondary" button that reads "More options", an "Accept" slot that reads "Reject").
    const OTHER_CHOICE = /option|setting|preference|manage|more|learn|customi|purpose|partner|vendor/i;
    const pick = (selector: string | undefined, others: RegExp[]): Element | null => {
      if (selector === undefined) return null;
      for (const el of queryAll(selector)) {
        if (!shown(el) || !safeToClick(el)) continue;
        const label = labelOf(el);
        if (OTHER_CHOICE.test(label) || others.some((words) => words.test(label))) continue;
        return el;
      }
      return null;
    };
    const choices: Array<[ConsentInFrame["action"], Element | null]> = [
      ["reject", pick(vendor.reject, [ACCEPT, CONTINUE_WITHOUT])],
      ["continue_without_accepting", pick(vendor.continueWithout, [ACCEPT, REJECT])],
      ["accept", pick(vendor.accept, [REJECT, CONTINUE_WITHOUT])],
      ["close", pick(vendor.close, [ACCEPT, REJECT])],
    ];
    const visibleRoot = roots.some((r) => r.shadowRoot !== null || shown(r));
    const found = choices.find(([, el]) => el !== null);
    if (found === undefined) {
      // Shown with nothing to answer it by (a wall of its own kind): reported, unless only
      // probing whether an answered dialog has gone, which its controls going says.
      if (visibleRoot && !options.probe) return { cmp: vendor.cmp, action: "none" };
      continue;
    }
    const [action, control] = found as [ConsentInFrame["action"], Element];
    if (options.probe) return { cmp: vendor.cmp, action: "none", label: labelOf(control) };
    click(control);
    return { cmp: vendor.cmp, action, label: labelOf(control) };
  }

  // Any other dialog: an element named for consent, small enough to be a dialog, with a button
  // whose words make a choice.
  const isDialog = (el: Element): boolean => {
    if (el === document.body || el === document.documentElement) return false;
    const className = typeof el.className === "string" ? el.className : "";
    const label = `${el.id} ${className} ${el.getAttribute("aria-label") ?? ""}`;
    return CONSENT_WORDS.test(label) && (el.textContent ?? "").length < MAX_DIALOG_TEXT && shown(el);
  };
  const dialogs = queryAll("[id], [class], [aria-label]").filter(isDialog);
  // Outermost first: one dialog is answered once, however many named elements it nests.
  const outer = dialogs.filter((el) => !dialogs.some((other) => other !== el && other.contains(el)));
  for (const dialog of outer) {
    const controls = Array.from(
      dialog.querySelectorAll("button, [role='button'], input[type='button'], input[type='submit'], a"),
    ).filter((el) => shown(el) && safeToClick(el));
    const pick = (words: RegExp) => controls.find((el) => words.test(labelOf(el))) ?? null;
    const choices: Array<[ConsentInFrame["action"], Element | null]> = [
      ["reject", pick(REJECT)],
      ["continue_without_accepting", pick(CONTINUE_WITHOUT)],
      ["accept", pick(ACCEPT)],
    ];
    const found = choices.find(([, el]) => el !== null);
    if (found === undefined) continue;
    const [action, control] = found as [ConsentInFrame["action"], Element];
    if (options.probe) return { cmp: "generic", action: "none", label: labelOf(control) };
    click(control);
    return { cmp: "generic", action, label: labelOf(control) };
  }
  return { cmp: null, action: "none" };
}
