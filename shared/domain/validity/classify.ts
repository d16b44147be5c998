/**
 * The capture validity classifier: is what the browser got the article, or something standing in
 * its place? Pure: no I/O, no clock.
 *
 * Each kind of wall is looked for in turn, strongest evidence first: a vendor's challenge (its
 * headers, its markup), then a consent dialog, a paywall, a "page not found", an error page, a
 * page with no article text. A detector answers only on strong evidence: the wall's own words
 * where the article should be, or its markup with little else on the page. Weaker signs (the
 * words somewhere on a page that also has text) decide only together with the URL's history: a
 * capture whose text shares almost nothing with the previous version and looks like a wall is a
 * wall, not a rewrite; and one that opens like the previous version but stops short, with any sign
 * of a paywall, is a teaser of it (teaser.ts: its first whole paragraphs, with a wall's words where
 * the text stops). Last, the history alone: a capture much shorter than the previous version that
 * shares almost none of its content words is not the article, whatever page it is (`empty`).
 */
import { relateToPrevious, UNRELATED_BELOW } from "./history.ts";
import {
  accessibleForFree,
  documentTitle,
  forMatching,
  headings,
  inlineScripts,
  markupNames,
  presentsAsArticle,
  visibleText,
  words,
} from "./page-text.ts";
import { leadingParagraphs, textAfterArticle, wallWords } from "./teaser.ts";
import type { CaptureSignals, PageView, PreviousText, ValidityVerdict } from "./types.ts";
import { detectChallenge, mentionsChallenge } from "./vendors.ts";
import {
  APP_SHELL_WORDS,
  CMP_MARKUP,
  CONSENT_WORDS,
  ERROR_WORDS,
  NOT_FOUND_WORDS,
  OFFER_WORDS,
  OUTAGE_WORDS,
  PAYWALL_MARKUP,
  PAYWALL_WORDS,
  WALL_HINT_WORDS,
} from "./vocabulary.ts";

/** Fewer article words than this is no article (the extractor's own floor for declared articles). */
const EMPTY_BELOW_WORDS = 5;
/** A page that says "not found" or "error" in its headline with fewer article words is that page. */
const STATUS_PAGE_MAX_WORDS = 200;
/** A consent dialog in the article's place: its words, and not much more text than a dialog has. */
const CONSENT_MAX_WORDS = 250;
/** …and with only one of its phrases, a text as short as a dialog's buttons and a sentence. */
const CONSENT_MAX_WORDS_ONE_PHRASE = 100;
/** Several consent phrases in the "article": a long TCF notice is still a notice. */
const CONSENT_MAX_WORDS_MANY_PHRASES = 800;
/** A teaser is short: a declared paywall with fewer article words than this is its teaser. */
const TEASER_MAX_WORDS = 150;
/** A text that ends in a paywall's own words is a teaser up to this many words (a long lede). */
const TEASER_WITH_WORDS_MAX_WORDS = 600;
/** Below this share of the previous version's length, a capture that opens the same way is cut short. */
const CUT_SHORT_WITH_SIGN = 0.6;
/** …and below this share it is cut short even with no other sign of a paywall. */
const CUT_SHORT_ALONE = 0.35;
/** Shorter previous versions say too little to call a capture cut short. */
const CUT_SHORT_MIN_PREVIOUS_WORDS = 120;
/**
 * Below this share of the previous version's words, a capture that also shares almost nothing
 * with it (`UNRELATED_BELOW`) is not the article: an edit that cuts an article keeps its words
 * (high share), and a rewrite keeps about its length.
 */
const UNRELATED_SHORTER_THAN = 0.5;
/** A subscription offer in the article's place: two of its phrases in a text shorter than this. */
const OFFER_MAX_WORDS = 150;

/**
 * Classifies one capture. `previous` is the URL's latest full version (absent before the first),
 * the history that tells a wall from a rewrite and a teaser from an edit.
 *
 * @returns the class and a sentence saying why.
 */
export function classifyCapture(signals: CaptureSignals, previous?: PreviousText | null): ValidityVerdict {
  const view = readPage(signals);

  const challenge = detectChallenge(view);
  if (challenge) return { validity: "challenge", validityReason: challenge };

  if (view.httpStatus >= 400) {
    return {
      validity: "error_page",
      validityReason: `The server answered HTTP ${view.httpStatus} with a page that is not the article.`,
    };
  }

  const strong = consentWall(view) ?? paywall(view) ?? statusPage(view) ?? emptyPage(view);
  if (strong) return strong;

  if (previous) {
    const relation = relateToPrevious(signals, previous);
    const weak = weakSign(view);
    const percent = Math.round(relation.shared * 100);
    if (weak && relation.shared < UNRELATED_BELOW) {
      return {
        validity: weak.validity,
        validityReason: `${weak.validityReason} Its text shares only ${percent}% of its words with the previous version, so it is not a rewrite of the article.`,
      };
    }
    const cutShort =
      relation.sameLede &&
      relation.previousWords >= CUT_SHORT_MIN_PREVIOUS_WORDS &&
      (relation.lengthRatio < CUT_SHORT_ALONE ||
        (relation.lengthRatio < CUT_SHORT_WITH_SIGN && paywallSign(view) !== null));
    if (cutShort) {
      const sign = paywallSign(view);
      return {
        validity: "paywall",
        validityReason: `A teaser: the text opens as the previous version does but stops after ${relation.currentWords} of its ${relation.previousWords} words${sign ? ` (${sign})` : ""}.`,
      };
    }
    const teaser = firstParagraphsOf(view, signals.text, previous, relation.lengthRatio);
    if (teaser) return teaser;
    // Not the article, whatever the page is: nothing of its text, and much shorter. A weak sign
    // (a removal notice's words, a sign-in line) says which page; with none, no article was found.
    if (relation.sharedContent < UNRELATED_BELOW && relation.lengthRatio < UNRELATED_SHORTER_THAN) {
      const unrelated = `shows ${relation.currentWords} words that share almost nothing (${Math.round(relation.sharedContent * 100)}% of its content words) with the article's last version (${relation.previousWords} words); the article was not there.`;
      if (weak)
        return { validity: weak.validity, validityReason: `${weak.validityReason} The page ${unrelated}` };
      // A withdrawal note or a shorter rewrite looks the same: on a page that still presents itself
      // as the article, with no wall's words at all, a second capture of the same text confirms it.
      const maybeNewText =
        signals.extraction !== "fallback" &&
        presentsAsArticle(signals.html, signals.title) &&
        !WALL_HINT_WORDS.test(view.articleText) &&
        !WALL_HINT_WORDS.test(view.afterText);
      return {
        validity: "empty",
        validityReason: `The page ${unrelated}`,
        ...(maybeNewText ? { maybeNewText: true } : {}),
      };
    }
  }
  return {
    validity: "ok",
    validityReason: `The article's text was extracted (${view.articleWords} words).`,
  };
}

/**
 * The previous version's first whole paragraphs and nothing more but a short line, well under its
 * length, with a wall's words (even weak ones: "membership", "continue reading") in that line or
 * where the text stops on the page: a teaser. Without those words it is an edit that cut the end.
 */
function firstParagraphsOf(
  view: PageView,
  text: string,
  previous: PreviousText,
  lengthRatio: number,
): ValidityVerdict | null {
  if (lengthRatio >= CUT_SHORT_WITH_SIGN || words(previous.text).length < CUT_SHORT_MIN_PREVIOUS_WORDS) {
    return null;
  }
  const shape = leadingParagraphs(text, previous.text);
  if (!shape) return null;
  // Weak words only in the line inside the article: below it, a site's own subscription box.
  const said = wallWords(shape.tail) ?? gatedAtStop(view)?.[0] ?? null;
  if (!said) return null;
  return {
    validity: "paywall",
    validityReason: `A teaser: the text is the previous version's first ${shape.leading} paragraph${shape.leading === 1 ? "" : "s"} (${view.articleWords} words), and the page says "${said}" where it stops.`,
  };
}

/** Reads the page once into the form every detector uses. */
function readPage(signals: CaptureSignals): PageView {
  const title = documentTitle(signals.html);
  const visible = visibleText(signals.html);
  const headline = [signals.title, title, ...headings(signals.html)]
    .filter((t): t is string => !!t)
    .map(forMatching);
  const articleText = forMatching(signals.text);
  const matchText = forMatching(`${headline.join(" \n ")} \n ${visible}`);
  return {
    httpStatus: signals.httpStatus,
    headers: signals.headers,
    names: markupNames(signals.html),
    scripts: inlineScripts(signals.html).toLowerCase(),
    matchText,
    afterText: textAfterArticle(matchText, signals.text),
    headline: headline.join("\n"),
    articleText,
    articleWords: words(signals.text).length,
    pageWords: words(visible).length,
    accessibleForFree: accessibleForFree(signals.html),
    rawHtml: signals.rawHtml ?? "",
  };
}

function distinctMatches(pattern: RegExp, text: string): string[] {
  const global = new RegExp(pattern.source, "g");
  return [...new Set(Array.from(text.matchAll(global), (m) => m[0]))];
}

function consentWall(view: PageView): ValidityVerdict | null {
  const inArticle = distinctMatches(CONSENT_WORDS, view.articleText);
  // One phrase in a short text on a page with a consent platform's markup, or more phrases in a
  // longer text: a news brief about "pay or OK" models is news, not a dialog.
  const onePhraseWall =
    inArticle.length > 0 && view.articleWords <= CONSENT_MAX_WORDS_ONE_PHRASE && CMP_MARKUP.test(view.names);
  // "Agree to cookies or subscribe": a consent wall that also sells a subscription, not a paywall.
  const acceptOrSubscribe =
    inArticle.length > 0 &&
    view.articleWords <= CONSENT_MAX_WORDS_ONE_PHRASE &&
    PAYWALL_WORDS.test(view.articleText);
  if (
    onePhraseWall ||
    acceptOrSubscribe ||
    (inArticle.length >= 2 && view.articleWords <= CONSENT_MAX_WORDS) ||
    (inArticle.length >= 3 && view.articleWords <= CONSENT_MAX_WORDS_MANY_PHRASES)
  ) {
    return {
      validity: "consent_wall",
      validityReason: `A consent dialog stands in the article's place ("${inArticle.slice(0, 2).join('", "')}").`,
    };
  }
  if (view.articleWords >= 60) return null;
  const cmp = CMP_MARKUP.exec(view.names);
  const said = CONSENT_WORDS.exec(view.matchText);
  if (cmp && said) {
    return {
      validity: "consent_wall",
      validityReason: `A consent dialog (${cmp[0]}) that could not be dismissed hides the article ("${said[0]}"); only ${view.articleWords} words of text were found.`,
    };
  }
  // Dismissed in the browser, but with nothing behind it: the served page shows what stood there.
  if (!view.rawHtml) return null;
  const servedCmp = CMP_MARKUP.exec(markupNames(view.rawHtml));
  const servedSaid = servedCmp && CONSENT_WORDS.exec(forMatching(visibleText(view.rawHtml)));
  if (servedCmp && servedSaid) {
    return {
      validity: "consent_wall",
      validityReason: `The page was served as a consent dialog (${servedCmp[0]}, "${servedSaid[0]}") with no article behind it; only ${view.articleWords} words of text were found.`,
    };
  }
  return null;
}

/** The first sign of a paywall on the page, as words for a reason; null for none. */
function paywallSign(view: PageView): string | null {
  if (view.accessibleForFree === false) return "JSON-LD declares isAccessibleForFree: false";
  const said = PAYWALL_WORDS.exec(view.articleText) ?? PAYWALL_WORDS.exec(view.matchText);
  if (said) return `the page says "${said[0]}"`;
  const markup = PAYWALL_MARKUP.exec(view.names);
  if (markup) return `paywall markup (${markup[0]})`;
  return null;
}

function paywall(view: PageView): ValidityVerdict | null {
  const declared = view.accessibleForFree === false;
  const inArticle = PAYWALL_WORDS.exec(view.articleText);
  const onPage = inArticle ?? PAYWALL_WORDS.exec(view.matchText);
  const markup = PAYWALL_MARKUP.exec(view.names);
  const atStop = gatedAtStop(view);
  const short = view.articleWords < TEASER_MAX_WORDS;
  let why: string | null = null;
  // A declared paywall whose full text is in the page all the same (served to search engines, or
  // hidden by CSS) is the article: only a short text, or the paywall's words in it, make a teaser.
  if (declared && (short || inArticle)) {
    const also = onPage
      ? `, and the page says "${onPage[0]}"`
      : markup
        ? `, with paywall markup (${markup[0]})`
        : "";
    why = `JSON-LD declares isAccessibleForFree: false${also}; ${view.articleWords} words of the article are shown.`;
  } else if (inArticle && view.articleWords < TEASER_WITH_WORDS_MAX_WORDS) {
    why = `The article stops where the page says "${inArticle[0]}" (${view.articleWords} words shown).`;
  } else if (atStop && view.articleWords < TEASER_WITH_WORDS_MAX_WORDS) {
    why = `The page says "${atStop[0]}" where the article's text stops (${view.articleWords} words shown).`;
  } else if (onPage && (markup || declared) && short) {
    why = `A paywall${markup ? ` (${markup[0]})` : ""} says "${onPage[0]}"; ${view.articleWords} words of the article are shown.`;
  } else if (view.articleWords < OFFER_MAX_WORDS) {
    // An offer box that the extractor took for the article: its price, trial and log-in lines.
    const offer = distinctMatches(OFFER_WORDS, view.articleText);
    if (offer.length >= 2) {
      why = `a subscription or sign-up offer stands where the article should be ("${offer.slice(0, 3).join('", "')}"); ${view.articleWords} words shown.`;
    }
  }
  return why ? { validity: "paywall", validityReason: `A paywall teaser: ${why}` } : null;
}

/**
 * A paywall's words in the page text right after the article, counted only on a page that also
 * has paywall markup or declares itself not free, or whose text is a teaser's length: alone, that
 * space holds a site's newsletter, subscription and related-link boxes under a whole article.
 */
function gatedAtStop(view: PageView): RegExpExecArray | null {
  const gated =
    view.accessibleForFree === false ||
    PAYWALL_MARKUP.test(view.names) ||
    view.articleWords < TEASER_MAX_WORDS;
  return gated ? PAYWALL_WORDS.exec(view.afterText) : null;
}

/** A "not found" or error page with a 200: its headline says so and there is little else. */
function statusPage(view: PageView): ValidityVerdict | null {
  if (view.articleWords > STATUS_PAGE_MAX_WORDS) return null;
  const lines = view.headline.split("\n");
  for (const line of lines) {
    const gone = NOT_FOUND_WORDS.exec(line);
    if (gone) {
      return {
        validity: "soft_404",
        validityReason: `The page answered ${view.httpStatus} but says the page is gone ("${gone[0]}").`,
      };
    }
  }
  for (const line of lines) {
    const error = ERROR_WORDS.exec(line);
    if (error) {
      return {
        validity: "error_page",
        validityReason: `The page answered ${view.httpStatus} but shows an error ("${error[0]}").`,
      };
    }
  }
  return null;
}

function emptyPage(view: PageView): ValidityVerdict | null {
  if (view.articleWords >= EMPTY_BELOW_WORDS) return null;
  const shell = APP_SHELL_WORDS.exec(view.matchText);
  // No article, and the page says why: an outage ("try again in a few minutes"), not an empty page.
  const outage = shell ? null : (ERROR_WORDS.exec(view.matchText) ?? OUTAGE_WORDS.exec(view.matchText));
  if (outage) {
    return {
      validity: "error_page",
      validityReason: `No article text was found, and the page says "${outage[0]}": an outage or error page.`,
    };
  }
  return {
    validity: "empty",
    validityReason: shell
      ? `An app shell that never rendered its content ("${shell[0]}"); no article text was found.`
      : `No article text could be extracted (${view.articleWords} words; the page shows ${view.pageWords}).`,
  };
}

/** A sign too weak alone that the page is a wall, to be weighed with the URL's history. */
function weakSign(view: PageView): ValidityVerdict | null {
  const challenge = mentionsChallenge(view);
  if (challenge) {
    return { validity: "challenge", validityReason: `The page mentions a check ("${challenge}").` };
  }
  const consent = CONSENT_WORDS.exec(view.matchText);
  if (consent) {
    return { validity: "consent_wall", validityReason: `The page shows a consent dialog ("${consent[0]}").` };
  }
  const sign = paywallSign(view);
  if (sign) return { validity: "paywall", validityReason: `The page shows a paywall: ${sign}.` };
  const gone = NOT_FOUND_WORDS.exec(view.matchText);
  if (gone) return { validity: "soft_404", validityReason: `The page says it is gone ("${gone[0]}").` };
  const error = ERROR_WORDS.exec(view.matchText);
  if (error) return { validity: "error_page", validityReason: `The page shows an error ("${error[0]}").` };
  return null;
}
