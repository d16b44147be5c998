/**
 * The words and markup of the pages that stand in for an article: consent walls, paywalls, "page
 * not found" and error pages, app shells. English, German, French, Spanish, Italian, Dutch,
 * Portuguese, Polish and the Nordic languages, in the forms outlets actually print. All patterns
 * are matched against lower-cased text (see `forMatching`).
 */

function anyOf(phrases: readonly string[]): RegExp {
  return new RegExp(phrases.join("|"));
}

/** Consent platforms' containers, as their markup names them. */
export const CMP_MARKUP = anyOf([
  "onetrust",
  "optanon",
  "didomi",
  "sp_message_container",
  "sp_message_iframe",
  "sourcepoint",
  "qc-cmp2",
  "quantcast",
  "truste",
  "trustarc",
  "usercentrics",
  "uc-banner",
  "fc-consent-root",
  "fundingchoices",
  "cookiebot",
  "cybotcookiebot",
  "consentmanager",
  "cmpbox",
  "cmp-container",
  "consent-wall",
  "cookiewall",
  "cookie-wall",
  "gdpr-wall",
  "pur-abo",
  "contentpass",
]);

/** What a consent dialog says (one of these in the article's place is a wall). */
export const CONSENT_WORDS = anyOf([
  // en
  "we value your privacy",
  "we care about your privacy",
  "your privacy choices",
  "accept all cookies",
  "accept all",
  "reject all",
  "manage (?:your )?(?:cookie )?(?:preferences|settings|choices)",
  "we and our (?:\\d+ )?(?:partners|vendors)",
  "store and/or access information on a device",
  "consent to (?:the use of )?cookies",
  "accept or subscribe",
  "accept cookies or subscribe",
  "pay or (?:ok|accept)",
  "continue with (?:ads|advertising)",
  "(?:agree|consent) to (?:the use of )?cookies",
  "read (?:for free )?with ads",
  "(?:subscribe|pay) to read without ads",
  "use of cookies and tracking",
  "with ads and tracking",
  "withdraw (?:your )?consent at any time",
  "change your (?:choices|settings|preferences) at any time",
  // de
  "wir verwenden cookies",
  "wir und unsere partner",
  "alle akzeptieren",
  "alle ablehnen",
  "zustimmen und weiter",
  "akzeptieren und weiter",
  "mit werbung weiterlesen",
  "ihre privatsphäre",
  "datenschutz-einstellungen",
  "einwilligung",
  "werbefrei lesen",
  // the "pur" model: read with ads and tracking, or pay for none
  "mit werbung und tracking",
  "ohne werbetracking",
  "zustimmung (?:ist )?jederzeit widerrufbar",
  "einwilligung (?:ist )?jederzeit widerrufbar",
  "pur-abo",
  // fr
  "nous utilisons des cookies",
  "nous et nos partenaires",
  "tout accepter",
  "tout refuser",
  "accepter et continuer",
  "vos choix en matière de cookies",
  "respect de votre vie privée",
  "gérer mes choix",
  "paramétrer les cookies",
  "retirer votre consentement",
  "avec publicité et suivi",
  // es
  "utilizamos cookies",
  "nosotros y nuestros socios",
  "aceptar todo",
  "aceptar y continuar",
  "rechazar todo",
  "tu privacidad",
  "configurar cookies",
  "retirar (?:tu|su) consentimiento",
  // it
  "utilizziamo i cookie",
  "noi e i nostri partner",
  "accetta tutti",
  "accetta e continua",
  "rifiuta tutti",
  "la tua privacy",
  "revocare il consenso",
  // nl
  "wij gebruiken cookies",
  "wij en onze partners",
  "alles accepteren",
  "akkoord en doorgaan",
  "alles weigeren",
  "toestemming (?:op elk moment )?intrekken",
  // pt
  "utilizamos cookies",
  "nós e os nossos parceiros",
  "aceitar tudo",
  "aceitar todos",
  "rejeitar tudo",
  // pl
  "akceptuję wszystkie",
  "zaakceptuj wszystkie",
  "twoja prywatność",
  // nordic
  "godkänn alla",
  "vi värnar om din integritet",
  "vi och våra (?:\\d+ )?partner",
  "lagra och(?:/eller)? (?:komma åt|få tillgång till) information",
  "vi använder cookies",
  "personanpassade annonser",
  "vi og (?:vores|våre) (?:\\d+ )?partnere",
  "vi bruger cookies",
  "vi bruker (?:cookies|informasjonskapsler)",
  "me ja (?:\\d+ )?kumppanimme",
  "käytämme evästeitä",
  "acceptera alla",
  "accepter alle",
  "godta alle",
  "hyväksy kaikki",
]);

/** A paywall's container or script, as its markup names it. */
export const PAYWALL_MARKUP = anyOf([
  "paywall",
  "pay-wall",
  "tp-modal",
  "tp-container-inner",
  "piano-",
  "tinypass",
  "meteredcontent",
  "metered-content",
  "subscriber-only",
  "subscribers-only",
  "premium-content",
  "article-locked",
  "content-locked",
  "regwall",
  "registration-wall",
  "plus-content",
  "abo-teaser",
  "paid-content",
  "laterpay",
]);

/** What a paywall says where the article stops. */
export const PAYWALL_WORDS = anyOf([
  // en
  "subscribe to (?:continue|keep) reading",
  "subscribe to read (?:the full|more|this)",
  "this (?:article|story|content) is (?:only )?(?:available )?(?:for|to) (?:our )?(?:subscribers|members)",
  // …but not "sign in to manage your newsletters", a newsletter box's line.
  "(?:already|are you) a subscriber\\??,? (?:log|sign) in(?! to manage)",
  "to continue reading,? (?:please )?(?:subscribe|log in|sign in|register)",
  "continue reading with (?:a|your) subscription",
  "become a (?:subscriber|member) to (?:continue|read)",
  "you have reached your (?:limit|free article limit)",
  "you've (?:reached|used) (?:your|all your) free articles?",
  "unlock (?:this|the full) (?:article|story)",
  "exclusive (?:to|for) subscribers",
  "subscriber-only",
  "register (?:for free )?to (?:continue|read)",
  "continue reading (?:your|this) (?:article|story) with (?:a|an)(?: [^ ]+){0,3}? (?:membership|subscription)",
  "create (?:your|a) free account,? or (?:log|sign) in to (?:continue|keep) reading",
  "create (?:your|a) free account to (?:continue|keep) reading",
  "(?:log|sign) in or (?:subscribe|create (?:a|your) free account) to (?:continue|keep) reading",
  "sign up to (?:read more|continue reading|keep reading)",
  "subscribe to unlock",
  "keep reading for (?:free|[€$£]|just|only)",
  // de
  "weiterlesen mit",
  "jetzt (?:weiter)?lesen mit",
  "dieser artikel ist (?:nur )?(?:für|exklusiv für) (?:abonnenten|abonnentinnen|abonnierende|plus-abonnenten)",
  "exklusiv für abonnenten",
  "jetzt abonnieren und weiterlesen",
  "sie haben bereits ein abo",
  "artikel freischalten",
  "kostenlos registrieren und weiterlesen",
  "registrieren sie sich kostenlos,? um weiterzulesen",
  "lesen sie (?:jetzt )?(?:weiter )?mit",
  "(?:schon|bereits) abonnent(?:in)?\\?",
  // fr
  "réservé aux abonnés",
  "cet article est réservé",
  "abonnez-vous pour (?:lire|continuer)",
  "déjà abonné",
  "la suite est réservée",
  "il vous reste \\d+% de cet article",
  "créez (?:votre|un) compte gratuit pour (?:continuer|lire la suite)",
  "connectez-vous pour lire la suite",
  // es
  "contenido exclusivo para suscriptores",
  "exclusivo para suscriptores",
  "suscríbete para (?:seguir|continuar) leyendo",
  "¿ya eres suscriptor",
  "para seguir leyendo",
  "regístrate gratis para (?:seguir|continuar) leyendo",
  // it
  "riservato agli abbonati",
  "contenuto riservato",
  "abbonati per continuare",
  "sei già abbonato",
  "per continuare a leggere",
  // nl
  "alleen voor abonnees",
  "lees verder met",
  "word abonnee",
  "al abonnee\\?",
  "maak een gratis account aan om verder te lezen",
  "log in om verder te lezen",
  "gratis verder lezen",
  "lees (?:gratis )?verder met (?:een )?(?:gratis )?account",
  // pt
  "exclusivo para assinantes",
  "conteúdo exclusivo para assinantes",
  "assine para continuar",
  "já é assinante",
  "para continuar (?:lendo|a ler)",
  // pl
  "tylko dla subskrybentów",
  "wykup subskrypcję",
  // nordic
  "för prenumeranter",
  "kun for abonnenter",
  "bara för prenumeranter",
  "artikeln är låst",
  "logga in för att läsa vidare",
  "bli prenumerant för att läsa vidare",
]);

/** A price for a period, either way round ("€69 per month", "im ersten Monat für 0,99 €"). */
const PRICE = "(?:[€$£]\\s?\\d+(?:[.,]\\d+)?|\\d+(?:[.,]\\d+)?\\s?(?:€|£|\\$|eur|euro|kr|zł))";
const PERIOD =
  "(?:month|week|year|monat|woche|jahr|mois|semaine|an|mes|semana|año|mese|settimana|anno|maand|jaar|mês|ano|månad|måned|miesiąc)";

/**
 * What a subscription or registration offer says. Each phrase is ordinary in an article about
 * media or prices; two different ones in a short text that stands where the article should be
 * are the offer (see classify.ts).
 */
export const OFFER_WORDS = anyOf([
  `${PRICE}[^.\\n]{0,25}?\\b(?:per|a|pro|im|par|al|por|i|/)\\s?(?:first )?${PERIOD}`,
  `(?:first|ersten|premier|primer|primo|eerste|första) (?:month|monat|mois|mes|mese|maand|månaden)[^.\\n]{0,15}?${PRICE}`,
  `${PRICE} for (?:\\d+|one|two|three|four|six) (?:weeks|months)`,
  // cancel any time
  "cancel (?:at )?any ?time",
  "jederzeit kündbar",
  "résiliable à tout moment|sans engagement",
  "cancela cuando quieras|sin permanencia",
  "disdici quando vuoi|senza vincoli",
  "(?:dagelijks|maandelijks|per maand) opzegbaar|opzeggen wanneer",
  "cancele quando quiser",
  "ingen bindningstid|uden binding|ingen binding",
  // access and trials
  "unlimited (?:digital )?access",
  "(?:complete|full) digital access",
  "free trial|start (?:your )?trial|during your trial",
  "unbegrenzte[nr]? zugriff|jetzt testen|gratis testen|kostenlos testen",
  "accès illimité|essai gratuit|essayer gratuitement",
  "acceso ilimitado|prueba gratis",
  "accesso illimitato|prova gratis",
  "onbeperkt toegang|proefabonnement|probeer gratis",
  "acesso ilimitado|teste grátis",
  "obegränsad tillgång|prova gratis|testa gratis|prøv gratis",
  // subscribe, register, log in
  "subscribe (?:now|today)|subscribe to unlock|keep reading for",
  "jetzt abonnieren|lesen sie (?:jetzt )?(?:weiter )?mit|(?:schon|bereits) abonnent",
  "abonnez-vous|déjà abonné",
  "suscríbete|ya eres suscriptor",
  "abbonati ora|sei già abbonato",
  "word (?:nu )?abonnee|al abonnee|gratis verder lezen",
  "assine já|assine agora|já é assinante",
  "bli prenumerant|redan prenumerant",
  "create (?:a|your) (?:free )?account|already have an account",
  "konto erstellen|kostenlos registrieren|bereits ein konto",
  "créez (?:un|votre) compte|déjà un compte",
  "crea (?:una|tu) cuenta|ya tienes (?:una )?cuenta",
  "crea un account|hai già un account",
  "maak (?:gratis )?een (?:gratis )?account aan|account aanmaken|al een account",
  "crie (?:uma|sua) conta|já tem (?:uma )?conta",
  "skapa (?:ett )?konto|redan ett konto",
]);

/** What a page says when what was asked for is not there (in its title or headline). */
export const NOT_FOUND_WORDS = anyOf([
  "(?:error|fehler|erreur|errore|fout|erro|błąd) 404",
  "404 (?:error|not found|page|-|–|\\|)",
  "^404$",
  "page not found",
  "file not found",
  "page (?:does not|doesn't|no longer) exists?",
  "page (?:you (?:are|were) looking for|you requested) (?:could not|cannot|can't|was not|wasn't) (?:be )?found",
  "we can't find (?:that|the|this) page",
  "we couldn't find (?:that|the|this) page",
  "(?:article|story|page|content) (?:is )?no longer available",
  "this (?:article|story|page|content) (?:has been|was) (?:removed|deleted|unpublished|withdrawn|retracted|taken down)",
  "oops,? (?:that|this) page",
  "seite nicht gefunden",
  "seite (?:existiert|gibt es) nicht",
  "nicht mehr verfügbar",
  "page introuvable",
  "page non trouvée",
  "cette page n'existe (?:pas|plus)",
  "n'est plus disponible",
  "página no encontrada",
  "no se ha encontrado la página",
  "la página que buscas",
  "ya no está disponible",
  "pagina non trovata",
  "pagina non disponibile",
  "non è più disponibile",
  "pagina niet gevonden",
  "deze pagina bestaat niet",
  "niet meer beschikbaar",
  "página não encontrada",
  "não está mais disponível",
  "nie znaleziono strony",
  "strona nie istnieje",
  "sidan hittades inte",
  "siden blev ikke fundet",
  "siden finnes ikke",
  "sivua ei löytynyt",
]);

/** What an error page says (in its title or headline). */
export const ERROR_WORDS = anyOf([
  "internal server error",
  "service (?:temporarily )?unavailable",
  "bad gateway",
  "gateway time-?out",
  "something went wrong",
  "an error (?:has )?occurred",
  "an unexpected error",
  "we're experiencing technical difficulties",
  "temporarily down for maintenance",
  "under maintenance",
  "error establishing a database connection",
  "application error",
  "es ist ein fehler aufgetreten",
  "etwas ist schiefgelaufen",
  "wartungsarbeiten",
  "une erreur (?:est survenue|s'est produite)",
  "erreur interne",
  "en maintenance",
  "se ha producido un error",
  "ha ocurrido un error",
  "algo salió mal",
  "si è verificato un errore",
  "qualcosa è andato storto",
  "er is iets misgegaan",
  "er is een fout opgetreden",
  "ocorreu um erro",
  "algo deu errado",
  "wystąpił błąd",
  "något gick fel",
  // "service unavailable" in the other languages
  "servizio (?:momentaneamente |temporaneamente )?non disponibile",
  "service (?:momentanément |temporairement )?indisponible",
  "servicio (?:temporalmente )?no disponible",
  "dienst (?:vorübergehend )?nicht verfügbar",
  "dienst (?:tijdelijk )?niet beschikbaar",
  "serviço (?:temporariamente )?indisponível",
  "usługa (?:chwilowo )?niedostępna",
  "tjänsten är (?:tillfälligt )?otillgänglig",
]);

/**
 * What an outage page says in its body ("try again in a few minutes"): with no article text
 * beside it, the page is an error page rather than merely empty. Too common in news for a headline.
 */
export const OUTAGE_WORDS = anyOf([
  "(?:please )?try again (?:later|in a (?:few|couple of) minutes)",
  "we apologi[sz]e for the inconvenience",
  "(?:temporarily|currently) unavailable",
  "technical (?:problem|issue|difficulties)",
  "versuchen sie es (?:später|in (?:ein paar|wenigen) minuten) (?:erneut|noch einmal)",
  "vorübergehend nicht (?:verfügbar|erreichbar)",
  "technische(?:n)? (?:problems?|störung)",
  "réessayez (?:plus tard|dans quelques minutes)",
  "(?:temporairement|momentanément) indisponible",
  "problème technique",
  "inténtalo (?:de nuevo )?más tarde",
  "problema técnico",
  "riprova (?:più tardi|tra qualche minuto)",
  "(?:momentaneamente|temporaneamente) non disponibile",
  "problema tecnico",
  "ci scusiamo per il disagio",
  "probeer het (?:later )?(?:nog eens|opnieuw)",
  "tijdelijk niet beschikbaar",
  "technische storing",
  "tente novamente mais tarde",
  "temporariamente indisponível",
  "spróbuj ponownie później",
  "försök igen (?:senare|om en stund)",
  "prøv igjen senere|prøv igen senere",
]);

/** An app shell that never rendered its content. */
export const APP_SHELL_WORDS = anyOf([
  "you need to enable javascript to run this app",
  "please enable javascript",
  "javascript is (?:disabled|required)",
  "this (?:site|page|app) requires javascript",
  "bitte aktivieren sie javascript",
  "veuillez activer javascript",
  "activa javascript",
  "^\\s*loading\\.*\\s*$",
]);

/**
 * Words that hint at a wall without saying it outright: too weak to call any page a paywall, they
 * count only where the article's text stops, on a text that is the previous version's first whole
 * paragraphs and nothing more (see teaser.ts). Not the bare "read more" of a related-links box.
 */
export const WALL_HINT_WORDS = anyOf([
  // en
  "continue reading",
  "keep reading",
  "read the (?:full|rest of the|whole) (?:article|story)",
  "the rest of this (?:article|story)",
  "membership",
  "subscription",
  "subscriber",
  "members only",
  "already a member",
  "already have an account",
  "(?:log|sign) in to (?:read|continue|keep)",
  "free account",
  "create (?:an|a|your) account",
  "subscribe (?:now|today|to read|to continue|for full access)",
  // de
  "abonnent",
  "jetzt abonnieren",
  "jetzt registrieren",
  "um weiterzulesen",
  // A related-reading heading as often as a wall's line: weak.
  "zum weiterlesen",
  // fr
  "abonné",
  "abonnement",
  "connectez-vous",
  // es
  "seguir leyendo",
  "continuar leyendo",
  "suscriptor",
  "suscripción",
  // it
  "continua a leggere",
  "continuare a leggere",
  "abbonat[io]",
  "abbonamento",
  // nl
  "verder lezen",
  "abonnee",
  // pt
  "continuar (?:lendo|a ler)",
  "continue lendo",
  "assinante",
  "assinatura",
  // pl
  "subskrypcj",
  "prenumerat",
  // nordic
  "läs vidare",
  "läsa vidare",
  "prenumerant",
  "les videre",
  "abonnement",
]);
