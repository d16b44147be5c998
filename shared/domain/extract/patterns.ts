/**
 * Generic boilerplate hints: class/id vocabulary and short-text phrases that mark page chrome.
 * Nothing here names a site; every pattern is a convention shared by many CMSs and themes.
 */

/**
 * Class/id words that mark chrome wherever it sits, even inside the article element: sharing,
 * related-content boxes, newsletters, ads, comments, cookie banners, author boxes, tags.
 */
export const CHROME_SIGNATURE =
  /(?:^|[^a-z0-9])(?:share|sharing|sharedaddy|social|addtoany|addthis|sharethis|heateor|related|yarpp|outbrain|taboola|recirc|recommend(?:ed|ations?)?|more-?stories|most-?(?:read|popular|viewed|shared)|popular-?posts|trending|read-?(?:more|next|also)|also-?read|newsletter|subscribe|subscription|sign-?up|opt-?in|mailchimp|mc4wp|cookie|consent|gdpr|advert\w*|ads|ad|adsbygoogle|ad-?(?:slot|unit|container|wrapper|box|block|zone|banner|placeholder|label)|dfp|sponsor\w*|promo|promoted|comments?|disqus|respond|breadcrumbs?|pagination|pager|sidebar|skip-?link|sr-only|screen-?reader\w*|visually-?hidden|author[-_]*(?:bio|box|info|card|profile|details|about|desc\w*)|about-?(?:the-?)?author|authorbox|bio|bio-?box|disclaimer|disclosure|paywall|table-?of-?contents?|tableofcontents?|toc|ez-toc|skip-?to\w*|byline\w*|dateline|timestamp|post-?date|entry-?date|(?:post|entry|article|story)-?meta|meta-?data|tags|tag-?(?:list|links|cloud)|cat-?links|post-?tags|entry-?tags|categories|keywords|print|follow-?us|modal|popup|overlay|reactions?|rating|jp-relatedposts|wp-block-buttons|toolbar|subnav|navbar|nav|menu|masthead|site-?header|site-?footer|footer|copyright)(?![a-z0-9])/;

/** Class/id words of a main-content container. */
export const CONTENT_SIGNATURE =
  /(?:^|[^a-z0-9])(?:article-?(?:body|content|text|main)|articlebody|article__body|entry-?content|post-?(?:content|body|text|entry)|story-?(?:body|content|text)|body-?(?:text|copy|content)|content-?body|main-?content|rich-?text|prose|text-?content|single-?content|blog-?(?:content|post|body)|td-post-content|hentry|h-entry)(?![a-z0-9])/;

/** Words that make an element more likely to hold the article (Readability's positive list). */
export const POSITIVE_HINT = /article|body|content|entry|hentry|h-entry|main|page|post|text|blog|story/;

/** Words that make an element less likely to hold the article (Readability's negative list, widened). */
export const NEGATIVE_HINT =
  /(?:^|[^a-z0-9])(?:ad|ads)(?![a-z0-9])|-ad-|banner|combx|comment|com-|contact|footer|gdpr|masthead|media|meta|outbrain|promo|related|scroll|share|shoutbox|sidebar|skyscraper|sponsor|shopping|tags|nav|menu|header|breadcrumb|social|newsletter|subscribe|popular|trending|recommend/;

/** ARIA roles that are never the article. */
export const CHROME_ROLES: ReadonlySet<string> = new Set([
  "navigation",
  "banner",
  "contentinfo",
  "complementary",
  "search",
  "menu",
  "menubar",
  "toolbar",
  "dialog",
  "alertdialog",
]);

/**
 * Whole-paragraph phrases that are chrome, not prose. Matched against a short paragraph's
 * text (lower-cased, collapsed). Timestamps and counters live here because they change on
 * every capture and would otherwise show up as edits.
 */
export const CHROME_PARAGRAPHS: readonly RegExp[] = [
  // Ad labels and "continue reading" interstitials.
  /^(?:advertisement|advertisements|advertising|ad|ads|sponsored(?: content)?|paid (?:content|post)|promoted|partner content|story continues below(?: advertisement)?|article continues below(?: advertisement)?|continue reading(?: below| the main story)?|scroll (?:down )?to continue(?: with content)?|skip (?:to|this) ad.*|remove ads.*)$/,
  // Share, print, copy and follow buttons.
  /^(?:share|share this|share this (?:article|story|post|page)|share (?:on|via) \S+|tweet|pin|email|e-mail|print|copy link|link copied|copied|save|bookmark|follow|follow us|follow us on .{1,40}|gift (?:this )?article|listen|listen to (?:this )?(?:article|story)|comments?|view comments|leave a comment|leave a reply|add a comment|reply)$/,
  // Section labels of link boxes: related, more, most read, trending.
  /^(?:related|related (?:articles?|stories|posts?|content|news|coverage|topics|reading|links)|related(?: [a-z]+)?:.{0,120}|read more|read more:?.{0,120}|read (?:also|next):?.{0,120}|also read:?.{0,120}|see also:?.{0,120}|more on this story:?.{0,120}|more from .{1,60}|more on (?:this|that) (?:story|topic)|more (?:news|stories|articles)|most (?:read|popular|viewed|shared|commented)|trending(?: now| stories| articles)?|popular (?:posts|stories|articles|now)|you (?:may|might) (?:also )?(?:like|enjoy|be interested in)|recommended(?: for you| stories| articles| reading)?|latest (?:news|stories|posts|articles)|top stories|editor'?s picks|don'?t miss|explore more|keep reading|what to read next|up next)$/,
  // Timestamps that move ("Updated 5 minutes ago" and other date-only lines are caught by
  // `isDateLike`, "Jane Doe · 5 minutes ago" by `isRelativeTimestamp`).
  /^(?:updated|published|posted)\s*:?\s*(?:just now|moments ago|today|yesterday)$/,
  /^\d+ ?(?:s|m|min|h|hr|d|w)$/,
  // Counters: "12 comments", "1.2k shares", "Comments (3)".
  /^(?:\d[\d.,]*\s*[kmb]?\s*)(?:comments?|shares?|views?|likes?|reactions?|replies|responses|reads?)$/,
  /^(?:comments?|shares?|views?|likes?|replies)\s*[:(]?\s*\d[\d.,]*\s*[kmb]?\s*\)?$/,
  // Reading time.
  /^(?:reading time:?\s*)?\d+\s*(?:-\s*\d+\s*)?(?:min|mins|minutes?)(?: read| reading)?(?: time)?$/,
  // Newsletter and sign-up prompts.
  /^(?:sign up|sign up for (?:our|the) .{1,60}|subscribe|subscribe (?:now|today|to .{1,60})|get (?:our|the) .{1,40} newsletter|join (?:our|the) newsletter|newsletter|sign in|log in|register|already a subscriber\??.{0,60}|create (?:a )?free account.{0,60})$/,
  // Cookie prompts.
  /^(?:we use cookies.{0,200}|this (?:web)?site uses cookies.{0,200}|accept(?: all)?(?: cookies)?|reject(?: all)?|manage (?:cookies|preferences|consent)|cookie (?:settings|preferences|policy))$/,
  // Image credits and navigation crumbs.
  /^(?:photo|image|picture|credit|source|illustration|video)s?:? ?(?:by )?.{0,60}(?:getty images|shutterstock|reuters|ap photo|afp|istock|alamy|epa)\.?$/,
  /^(?:back to top|next article|previous article|next post|previous post|next|previous|prev|home|menu|close|search|open menu|toggle navigation|skip to (?:main )?content|loading\.{0,3}|tags?(?::.{0,100})?|topics?:.{0,100}|categories(?::.{0,100})?|filed under:?.{0,100})$/,
];

/** A paragraph this short (characters) is checked against {@link CHROME_PARAGRAPHS}. */
export const CHROME_PARAGRAPH_MAX_LENGTH = 220;
