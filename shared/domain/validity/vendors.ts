/**
 * Bot challenges, vendor by vendor: what each vendor's interstitial looks like in its headers and
 * markup. We only recognise these pages, to keep them out of an article's history; we never solve
 * a captcha or try to get past the protection.
 *
 * The markers are the ones a challenge page itself carries (a challenge script, a captcha frame, a
 * mitigation header), not the vendor's ordinary tag, which protected outlets load on every article
 * page: a DataDome or HUMAN sensor script alone says nothing about the page it sits on.
 */
import type { PageView } from "./types.ts";

/** One vendor's rules; each returns what it saw, or null. */
interface Vendor {
  name: string;
  /** A header that only a challenge answer carries (with `headerAlone`), or that marks the vendor's refusal. */
  header?: (headers: Readonly<Record<string, string>>) => string | null;
  /**
   * The header is enough on its own (Cloudflare's `cf-mitigated`, DataDome's `x-dd-b`). Otherwise
   * it also needs a blocking status or a page with little text: Imperva and Akamai send theirs
   * with every answer, articles included.
   */
  headerAlone?: boolean;
  /** Markup only a challenge page carries. */
  markup: RegExp;
  /** The vendor's answer headers (server, cookies): with markup or a blocking status, it is theirs. */
  served?: (headers: Readonly<Record<string, string>>) => boolean;
  /** Words of its interstitial (in the languages it ships). */
  vocabulary?: RegExp;
}

const VENDORS: readonly Vendor[] = [
  {
    name: "Cloudflare",
    header: (h) => (h["cf-mitigated"] === "challenge" ? "cf-mitigated: challenge" : null),
    headerAlone: true,
    markup:
      /\/cdn-cgi\/challenge-platform\/|cf-chl-|cf_chl_|challenge-form|cf-browser-verification|cf-turnstile|cf-error-details|cf-wrapper/,
    served: (h) => /cloudflare/i.test(h.server ?? "") || h["cf-ray"] !== undefined,
    vocabulary:
      /just a moment|checking your browser|checking if the site connection is secure|verify you are human by completing|attention required|un instant|einen moment|un momento|sorry, you have been blocked/,
  },
  {
    name: "Akamai",
    header: (h) => (h["akamai-grn"] && /akamaighost/i.test(h.server ?? "") ? "an AkamaiGHost refusal" : null),
    markup: /\/_sec\/cp_challenge\/|sec-if-cpt-container|bm-verify|akam-sw|ak-challenge/,
    served: (h) => /akamaighost/i.test(h.server ?? "") || h["akamai-grn"] !== undefined,
    vocabulary: /access denied|you don't have permission to access|reference #\d+\.|powered by akamai/,
  },
  {
    name: "DataDome",
    header: (h) => (h["x-dd-b"] !== undefined ? "x-dd-b" : null),
    headerAlone: true,
    markup: /captcha-delivery\.com|ddcaptcha|dd-captcha|var dd\s*=\s*\{|datadome-captcha/,
    served: (h) => h["x-datadome"] !== undefined || /datadome=/i.test(h["set-cookie"] ?? ""),
    vocabulary:
      /you have been blocked|vous avez été bloqué|sie wurden blockiert|please enable js and disable any ad blocker/,
  },
  {
    name: "PerimeterX (HUMAN)",
    markup: /px-captcha|_pxappid|_pxhd|captcha\.px-cdn|px-cloud\.net\/.*captcha|human-challenge|_pxuuid/,
    served: (h) => /_px[a-z0-9]*=/i.test(h["set-cookie"] ?? ""),
    vocabulary:
      /press & hold|press and hold|access to this page has been denied|halten sie gedrückt|appuyez et maintenez/,
  },
  {
    name: "Imperva (Incapsula)",
    header: (h) =>
      h["x-iinfo"] !== undefined && /incapsula|imperva/i.test(h["x-cdn"] ?? "") ? "x-cdn: Incapsula" : null,
    markup: /_incapsula_resource|incapsula incident id|incap_ses_|imperva/,
    served: (h) =>
      h["x-iinfo"] !== undefined ||
      /incapsula|imperva/i.test(h["x-cdn"] ?? "") ||
      /incap_ses_|visid_incap_/i.test(h["set-cookie"] ?? ""),
    vocabulary: /request unsuccessful|incapsula incident|additional security check is required/,
  },
];

/** A captcha widget, whoever serves it. */
const CAPTCHA_WIDGET =
  /g-recaptcha|recaptcha\/api|grecaptcha|h-captcha|hcaptcha\.com|cf-turnstile|challenges\.cloudflare\.com\/turnstile|frc-captcha|captcha-container|arkoselabs|funcaptcha/;

/** What a captcha interstitial says, in the languages outlets ship. */
const CAPTCHA_WORDS = new RegExp(
  [
    "are you a robot",
    "verify (?:that )?you(?:'re| are) (?:a )?human",
    "prove you(?:'re| are) (?:a )?human",
    "unusual traffic from your (?:computer|network)",
    "complete the security check",
    "security check to access",
    "please complete the captcha",
    "i'm not a robot",
    "bist du ein mensch|sind sie ein roboter|bitte bestätigen sie, dass sie ein mensch sind|sicherheitsüberprüfung",
    "êtes-vous un robot|vérifiez que vous êtes humain|vérification de sécurité",
    "eres un robot|verifica que eres humano|comprobación de seguridad",
    "sei un robot|verifica di essere umano|controllo di sicurezza",
    "ben je een robot|controleer of je een mens bent",
    "você é um robô|verifique se você é humano",
    "czy jesteś robotem",
    "captcha",
    // A checkpoint of any vendor, or none we know: it says it checks the browser, or for a robot.
    "verifying (?:your|the) browser",
    "checking (?:your|the) browser",
    "browser (?:check|verification)",
    "(?:check|checking|verify|verifying|confirm) (?:that )?you(?:'re| are) not a (?:robot|bot)",
    "you(?:'re| are) not a robot",
    "automated (?:traffic|requests|queries|access)",
    "security checkpoint",
    "human verification",
    "ihr browser wird überprüft|überprüfung ihres browsers|browserprüfung|kein roboter",
    "vérification (?:de votre|du) navigateur|pas un robot",
    "verificando (?:tu|su) navegador|no eres un robot",
    "verifica del browser|non sei un robot",
    "uw browser wordt gecontroleerd|geen robot",
    "verificando (?:o )?seu navegador|não é um robô",
    "kontrollerar din webbläsare|inte en robot",
  ].join("|"),
);

/** Statuses a blocking interstitial is served with. */
const BLOCKING_STATUSES = new Set([401, 403, 405, 429, 503]);

/** A challenge page says little: above this many words of text, it is a page with a widget on it. */
const CHALLENGE_MAX_WORDS = 150;

/** What recognised the page as a challenge, as the words of its reason; null for none. */
export function detectChallenge(view: PageView): string | null {
  const blocking = BLOCKING_STATUSES.has(view.httpStatus);
  const short = view.pageWords <= CHALLENGE_MAX_WORDS;
  for (const vendor of VENDORS) {
    const header = vendor.header?.(view.headers);
    if (header && (vendor.headerAlone || blocking || short))
      return `${vendor.name} challenge: the server answered ${view.httpStatus} with ${header}.`;
    const markup = vendor.markup.exec(view.names) ?? vendor.markup.exec(view.scripts);
    const served = vendor.served?.(view.headers) ?? false;
    const said = vendor.vocabulary?.exec(view.matchText);
    if (markup && (blocking || short)) {
      return `${vendor.name} challenge: the page carries the vendor's challenge (${markup[0]})${blocking ? ` and answered ${view.httpStatus}` : ""}.`;
    }
    if (served && blocking && said) {
      return `${vendor.name} challenge: the vendor answered ${view.httpStatus} with its interstitial ("${said[0]}").`;
    }
  }
  if (!short) return null;
  const widget = CAPTCHA_WIDGET.exec(view.names) ?? CAPTCHA_WIDGET.exec(view.scripts);
  const words = CAPTCHA_WORDS.exec(view.matchText);
  if (widget && (words || blocking)) {
    return `Captcha page: a captcha (${widget[0]}) ${words ? `asks "${words[0]}"` : `answered ${view.httpStatus}`} and the page has no article.`;
  }
  // A refusal status, a page as short as an interstitial, and a check's words: a bot check, whoever runs it.
  if (words && blocking)
    return `A bot check: the server answered ${view.httpStatus} with a short page that says "${words[0]}".`;
  return null;
}

/** Whether the page shows captcha or challenge words at all (a weak sign, for the URL's history). */
export function mentionsChallenge(view: PageView): string | null {
  return CAPTCHA_WORDS.exec(view.matchText)?.[0] ?? null;
}
