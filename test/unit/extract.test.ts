import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { normaliseDate } from "../../shared/domain/extract/dates.ts";
import { extractArticle } from "../../shared/domain/extract/index.ts";
import { scoreWords, wordTokens } from "../../shared/domain/extract/tokens.ts";

const LEDE =
  "The harbour council voted seven to two on Monday evening to build a new sea wall along the eastern quay, ending a debate that has run for almost a decade.";
const SECOND =
  "Councillors said the wall, which will cost an estimated £14 million, was needed after three winter storms flooded homes and shops near the fish market.";
const THIRD =
  "Construction is expected to begin in the spring, and the council will consult residents on the design of a public walkway along the top of the wall.";
const LAST = "Opponents said they would continue to press for a cheaper scheme of dunes and salt marsh.";

function page(head: string, body: string, htmlAttributes = 'lang="en"'): string {
  return `<!doctype html><html ${htmlAttributes}><head><meta charset="utf-8">${head}</head><body>${body}</body></html>`;
}

function paragraphs(...texts: string[]): string {
  return texts.map((t) => `<p>${t}</p>`).join("\n");
}

describe("extractArticle: page chrome inside the article", () => {
  it("drops share bars, related links, timestamps, counters, ads, sign-ups and bios named as such", () => {
    const html = page(
      "<title>Harbour council approves sea wall | The Daily Example</title>",
      `<header class="site-header"><a href="/">The Daily Example</a><nav><a href="/news">News</a></nav></header>
      <main><article>
        <h1>Harbour council approves sea wall</h1>
        <div class="byline">By Jane Doe</div>
        <p class="timestamp">Updated 5 minutes ago</p>
        <div class="share-bar"><a href="#">Share on Facebook</a><a href="#">Tweet</a><span>1.2k shares</span></div>
        ${paragraphs(LEDE, SECOND)}
        <aside class="related"><h2>Related</h2><ul><li><a href="/a">Storm floods fish market</a></li></ul></aside>
        <div class="ad-slot"><span>Advertisement</span></div>
        <h2>What happens next</h2>
        ${paragraphs(THIRD)}
        <div class="newsletter-signup"><h3>Get our morning briefing</h3>
          <p>Sign up for the headlines, delivered at 7am every weekday, straight to your inbox.</p>
          <form><input type="email"><button>Sign up</button></form></div>
        ${paragraphs(LAST)}
        <div class="comments-count"><a href="#comments">12 comments</a></div>
        <div class="author-bio"><p>Jane Doe is the Daily Example's environment correspondent. She has covered coastal affairs for ten years.</p></div>
      </article>
      <section class="most-read"><h2>Most read</h2><ol><li><a href="/1">One story</a></li></ol></section></main>
      <div id="cookie-banner"><p>We use cookies to improve your experience. By continuing to browse you agree to our use of cookies.</p></div>
      <footer class="site-footer"><p>© 2026 The Daily Example</p></footer>`,
    );
    const article = extractArticle(html);
    assert.ok(article);
    assert.equal(article.text, [LEDE, SECOND, "What happens next", THIRD, LAST].join("\n\n"));
    assert.equal(article.title, "Harbour council approves sea wall");
  });

  it("drops unlabelled chrome by its shape: link rows, link lists, labels and counters", () => {
    const html = page(
      "<title>Sea wall</title>",
      `<div class="wrap"><article>
        <h1>Harbour council approves sea wall</h1>
        <p>By Jane Doe</p>
        <p>Published <time datetime="2026-03-02T08:15:00Z">3 hours ago</time></p>
        <div><a href="https://facebook.com/x">Facebook</a> <a href="https://x.com/x">X</a> <span>1.2k</span></div>
        ${paragraphs(LEDE, SECOND)}
        <p><a href="/older">Read more: Storm floods fish market</a></p>
        <p>Advertisement</p>
        ${paragraphs(THIRD, LAST)}
        <h3>Most read</h3>
        <ul><li><a href="/1">Storm closes bridge</a></li><li><a href="/2">New café opens on the pier</a></li></ul>
        <p>Comments (12)</p>
        <p>5 min read</p>
      </article></div>`,
    );
    assert.equal(extractArticle(html)?.text, [LEDE, SECOND, THIRD, LAST].join("\n\n"));
  });

  it("keeps headings, lists and data tables that belong to the article, each block its own paragraph", () => {
    const html = page(
      "<title>Budget</title>",
      `<article><h1>Budget</h1>${paragraphs(LEDE)}
        <h2>Where the money goes</h2>
        <ul><li>Sea wall: £14 million over three years</li><li>Walkway: £2 million once the wall is built</li></ul>
        <table><thead><tr><th>Year</th><th>Spend</th></tr></thead><tbody><tr><td>2026</td><td>£5m</td></tr></tbody></table>
        ${paragraphs(SECOND, `Line one<br>line two<br><br>${THIRD}`)}</article>`,
    );
    assert.equal(
      extractArticle(html)?.text,
      [
        LEDE,
        "Where the money goes",
        "Sea wall: £14 million over three years",
        "Walkway: £2 million once the wall is built",
        "Year | Spend",
        "2026 | £5m",
        SECOND,
        "Line one line two",
        THIRD,
      ].join("\n\n"),
    );
  });
});

describe("extractArticle: link boxes, cross-links and metadata lines", () => {
  const box = (label: string, headlines: readonly string[], markup: "ul" | "items") =>
    `<section class="module"><h3>${label}</h3>${
      markup === "ul"
        ? `<ul>${headlines.map((h, i) => `<li><a href="/s/${i}">${h}</a></li>`).join("")}</ul>`
        : headlines
            .map((h, i) => `<div class="item"><a href="/s/${i}">${h}</a> <span>${i + 2}h</span></div>`)
            .join("")
    }</section>`;

  it("removes a box of links with its label as a unit, whatever either is called", () => {
    const render = (label: string, headlines: readonly string[], markup: "ul" | "items") =>
      page(
        "<title>Sea wall</title>",
        `<article><h1>Harbour council approves sea wall</h1>${paragraphs(LEDE, SECOND)}
          ${box(label, headlines, markup)}${paragraphs(THIRD, LAST)}</article>`,
      );
    const first = extractArticle(
      render(
        "What others are reading",
        ["Storm closes bridge", "New café opens on the pier", "Lifeboat crew honoured"],
        "ul",
      ),
    );
    const second = extractArticle(
      render(
        "Elsewhere on the site",
        ["Council tax frozen", "Seal pup rescued near the slipway", "Choir wins title", "Bus fares cut"],
        "items",
      ),
    );
    const third = extractArticle(render("Most read", ["Council tax frozen"], "ul"));
    assert.equal(first?.text, [LEDE, SECOND, THIRD, LAST].join("\n\n"));
    assert.equal(second?.text, first?.text);
    assert.equal(third?.text, first?.text);
  });

  it("drops a labelled link to another story but keeps labelled facts", () => {
    const html = page(
      "<title>Sea wall</title>",
      `<article>${paragraphs(LEDE)}<p>Related coverage: <a href="/s/1">Storm floods the fish market again</a></p>
        <div><span>Also read:</span> <a href="/s/2">Why the harbour wall matters to the town</a></div>
        ${paragraphs(SECOND)}<p>Where to watch: <a href="https://tv.example">Harbour TV</a></p>${paragraphs(THIRD)}</article>`,
    );
    assert.equal(
      extractArticle(html)?.text,
      [LEDE, SECOND, "Where to watch: Harbour TV", THIRD].join("\n\n"),
    );
  });

  it("drops lines of timestamps and counters, with or without separators", () => {
    const html = page(
      "<title>Sea wall</title>",
      `<article><p class="info">Last updated: 10:32 GMT, 3 March 2025 · 5.4k views</p>${paragraphs(LEDE)}
        <div><span>3h ago</span> <span>1,204 reads</span></div><div>12 Mar 2025, 08:28 4.7k views</div>
        ${paragraphs(SECOND, "The ferry video had 5,000 views by Monday, the operator said.", THIRD)}</article>`,
    );
    assert.equal(
      extractArticle(html)?.text,
      [LEDE, SECOND, "The ferry video had 5,000 views by Monday, the operator said.", THIRD].join("\n\n"),
    );
  });

  it("judges the headline by its position among kept paragraphs, not among dropped chrome", () => {
    const render = (chrome: number) =>
      page(
        "<title>Sea wall | The Daily Example</title>",
        `<main><div>${"<p>Advertisement</p>".repeat(chrome)}<h1>Sea wall</h1>${paragraphs(LEDE, SECOND)}
          <h1>What happens next</h1>${paragraphs(THIRD, LAST)}</div></main>`,
      );
    assert.equal(extractArticle(render(0))?.text, extractArticle(render(6))?.text);
  });
});

describe("extractArticle: metadata", () => {
  it("reads meta tags: Open Graph title, article times (to UTC), author, html lang", () => {
    const html = page(
      `<title>Sea wall approved - The Daily Example</title>
       <meta property="og:title" content="Harbour council approves sea wall">
       <meta property="article:published_time" content="2026-03-02T08:15:00+01:00">
       <meta property="article:modified_time" content="2026-03-02T10:40:00+01:00">
       <meta name="author" content="Jane Doe">`,
      `<article>${paragraphs(LEDE, SECOND, THIRD)}</article>`,
      'lang="en-gb"',
    );
    const article = extractArticle(html);
    assert.deepEqual(
      { ...article, text: undefined },
      {
        title: "Harbour council approves sea wall",
        byline: "Jane Doe",
        publishedTime: "2026-03-02T07:15:00.000Z",
        modifiedTime: "2026-03-02T09:40:00.000Z",
        lang: "en-GB",
        text: undefined,
      },
    );
  });

  it("takes the headline's own words, not blocks nested in it or left open by broken markup", () => {
    const nested = page(
      "<title>Home</title>",
      `<article><h1>Harbour council approves sea wall<div class="meta">Updated 5 minutes ago</div><br>A decade of debate ends</h1>${paragraphs(LEDE, SECOND, THIRD)}</article>`,
    );
    assert.equal(extractArticle(nested)?.title, "Harbour council approves sea wall A decade of debate ends");
    const unclosed = page(
      "<title>Home</title>",
      `<article><div><h1>Harbour council approves sea wall</h2><p>January 1, 2026</p><p>Read more: <a href="/s">Storm floods fish market</a></p></div>${paragraphs(LEDE, SECOND, THIRD)}</article>`,
    );
    assert.equal(extractArticle(unclosed)?.title, "Harbour council approves sea wall");
  });

  it("reads JSON-LD in an @graph, resolving an author given by @id", () => {
    const ld = {
      "@context": "https://schema.org",
      "@graph": [
        { "@type": "WebSite", "@id": "https://example.com/#site", name: "The Daily Example" },
        { "@type": "Person", "@id": "https://example.com/#jane", name: "Jane Doe" },
        {
          "@type": ["NewsArticle"],
          headline: "Harbour council approves sea wall",
          author: [{ "@id": "https://example.com/#jane" }, { "@type": "Person", name: "Sam Smith" }],
          datePublished: "2026-03-02T08:15:00Z",
          dateModified: "2026-03-03",
          inLanguage: "en-GB",
        },
      ],
    };
    const html = page(
      `<title>Home</title><script type="application/ld+json">${JSON.stringify(ld)}</script>`,
      `<article>${paragraphs(LEDE, SECOND, THIRD)}</article>`,
      "",
    );
    const article = extractArticle(html);
    assert.equal(article?.title, "Harbour council approves sea wall");
    assert.equal(article?.byline, "Jane Doe, Sam Smith");
    assert.equal(article?.publishedTime, "2026-03-02T08:15:00.000Z");
    assert.equal(article?.modifiedTime, "2026-03-03");
    assert.equal(article?.lang, "en-GB");
  });

  it("reads JSON-LD given as a top-level array and skips blocks that are not JSON", () => {
    const html = page(
      `<script type="application/ld+json">{ not json </script>
       <script type="application/ld+json">[{"@type":"BreadcrumbList"},{"@type":"BlogPosting","headline":"Sea wall","author":"Jane Doe","datePublished":"2026-03-02"}]</script>`,
      `<article>${paragraphs(LEDE, SECOND, THIRD)}</article>`,
    );
    const article = extractArticle(html);
    assert.equal(article?.byline, "Jane Doe");
    assert.equal(article?.publishedTime, "2026-03-02");
  });

  it("falls back to the article's <time datetime>, content-language and og:locale", () => {
    const html = page(
      `<meta http-equiv="content-language" content="fr_FR"><meta property="og:locale" content="de_DE">`,
      `<article><p><time datetime="2026-03-02T09:15:00+01:00">2 mars 2026</time></p>${paragraphs(LEDE, SECOND, THIRD)}</article>`,
      "",
    );
    const article = extractArticle(html);
    assert.equal(article?.publishedTime, "2026-03-02T08:15:00.000Z");
    assert.equal(article?.lang, "fr-FR");
    assert.equal(article?.modifiedTime, null);
  });

  it("normalises dates without inventing a zone", () => {
    assert.equal(normaliseDate("2026-03-02"), "2026-03-02");
    assert.equal(normaliseDate("2026-03-02T08:15:00"), "2026-03-02T08:15:00");
    assert.equal(normaliseDate("2026-03-02 08:15:00 -0500"), "2026-03-02T13:15:00.000Z");
    assert.equal(normaliseDate("Mon, 02 Mar 2026 08:15:00 GMT"), "2026-03-02T08:15:00.000Z");
    assert.equal(normaliseDate("March 2, 2026"), "2026-03-02");
    assert.equal(normaliseDate("2 March 2026 at 8:15 pm UTC"), "2026-03-02T20:15:00.000Z");
    assert.equal(normaliseDate("1772439300"), "2026-03-02T08:15:00.000Z");
    assert.equal(normaliseDate("2026-02-30"), "2026-02-30");
    assert.equal(normaliseDate("  "), null);
  });
});

describe("extractArticle: JSON-LD articleBody reconciliation", () => {
  const body = [LEDE, SECOND, THIRD, LAST].join("\n\n");
  const promo =
    "Our journalism is funded by readers like you: give what you can today and help keep independent local reporting free for everyone in the harbour town.";

  it("drops DOM paragraphs the declared body does not have", () => {
    const html = page(
      `<script type="application/ld+json">${JSON.stringify({ "@type": "NewsArticle", articleBody: body })}</script>`,
      `<article>${paragraphs(LEDE, SECOND, promo, THIRD, LAST)}</article>`,
    );
    assert.equal(extractArticle(html)?.text, body);
  });

  it("uses the declared body when the DOM shows only part of it", () => {
    const html = page(
      `<script type="application/ld+json">${JSON.stringify({ "@type": "NewsArticle", articleBody: body })}</script>`,
      `<div class="teaser">${paragraphs(LEDE)}</div><div id="app"></div>`,
    );
    assert.equal(extractArticle(html)?.text, body);
  });

  it("ignores a declared body that tells another story", () => {
    const other =
      "A completely different report about the city marathon, which drew a record field of runners from forty countries and closed the bridge for the whole of Sunday morning while crowds lined the route.";
    const html = page(
      `<script type="application/ld+json">${JSON.stringify({ "@type": "NewsArticle", articleBody: other.repeat(2) })}</script>`,
      `<article>${paragraphs(LEDE, SECOND, THIRD, LAST)}</article>`,
    );
    assert.equal(extractArticle(html)?.text, body);
  });
});

describe("extractArticle: no article", () => {
  it("returns null for a page of navigation and link lists", () => {
    const links = Array.from(
      { length: 30 },
      (_, i) => `<li><a href="/s/${i}">Story number ${i} headline</a></li>`,
    );
    const html = page(
      "<title>The Daily Example</title>",
      `<nav><a href="/">Home</a></nav><main><ul>${links.join("")}</ul></main><footer>© 2026</footer>`,
    );
    assert.equal(extractArticle(html), null);
  });

  it("returns null for an empty document", () => {
    assert.equal(extractArticle(""), null);
    assert.equal(extractArticle("<html><body><p>Hello.</p></body></html>"), null);
  });

  it("throws on misuse", () => {
    assert.throws(() => extractArticle(42 as unknown as string), TypeError);
  });
});

describe("extractArticle: text is stable across page noise", () => {
  interface Noise {
    ago: string;
    shares: string;
    comments: number;
    mostRead: string[];
    published: string;
    teaser: string;
  }
  const render = (n: Noise): string =>
    page(
      `<title>Ferry fares to rise | Island News</title>
       <meta property="article:modified_time" content="${n.published}">`,
      `<div class="layout"><div class="col"><article>
        <h1>Ferry fares to rise</h1>
        <div class="meta"><span>By Sam Smith</span> · <span>Updated ${n.ago}</span></div>
        <p>Updated ${n.ago}</p>
        <div><a href="https://facebook.com/share">Facebook</a> <a href="https://x.com/share">X</a> <span>${n.shares} shares</span></div>
        ${paragraphs(LEDE, SECOND)}
        <div class="ad"><p>Advertisement</p></div>
        ${paragraphs(THIRD, LAST)}
        <h3>Most read</h3>
        <ul>${n.mostRead.map((t, i) => `<li><a href="/mr/${i}">${t}</a></li>`).join("")}</ul>
        <p>${n.comments} comments</p>
      </article>
      <section><h2>More from Island News</h2><div><h3><a href="/t">${n.teaser}</a></h3>
        <p>${n.teaser}: the full story of what happened, with reaction from islanders and the operator.</p></div></section>
      </div></div>`,
    );

  it("yields the same text whatever the timestamps, counters and rotating lists say", () => {
    const first = extractArticle(
      render({
        ago: "5 minutes ago",
        shares: "1.2k",
        comments: 12,
        mostRead: ["Storm closes bridge", "New café opens on the pier", "Lifeboat crew honoured"],
        published: "2026-03-02T09:00:00Z",
        teaser: "Bridge reopens after storm",
      }),
    );
    const second = extractArticle(
      render({
        ago: "2 hours ago",
        shares: "3,401",
        comments: 57,
        mostRead: [
          "Council tax frozen",
          "Harbour seal pup rescued after being spotted near the ferry slipway",
        ],
        published: "2026-03-02T11:00:00Z",
        teaser: "School choir wins national title",
      }),
    );
    assert.ok(first && second);
    assert.equal(first.text, [LEDE, SECOND, THIRD, LAST].join("\n\n"));
    assert.equal(second.text, first.text);
    assert.notEqual(second.modifiedTime, first.modifiedTime);
  });
});

describe("extractArticle: golden pages", () => {
  const dir = join(import.meta.dirname, "../fixtures/extract");
  for (const slug of readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    it(slug.name, () => {
      const source = readFileSync(join(dir, slug.name, "source.html"), "utf8");
      const expected = JSON.parse(readFileSync(join(dir, slug.name, "expected.json"), "utf8")) as unknown;
      assert.deepEqual(extractArticle(source), expected);
    });
  }
});

describe("word scoring", () => {
  it("tokenises like Python's Unicode \\w: letters, numbers, underscore; not combining marks", () => {
    assert.deepEqual(wordTokens("Café_au-lait, 3½ Ünïcode!"), ["café_au", "lait", "3½", "ünïcode"]);
    assert.deepEqual(wordTokens("e\u0301"), ["e"]);
  });

  it("scores bag-of-words overlap", () => {
    const score = scoreWords("a b b c", "a b c d");
    assert.equal(score.precision, 0.75);
    assert.equal(score.recall, 0.75);
    assert.equal(score.f1, 0.75);
  });
});

describe("extractArticle: short articles", () => {
  const STUB = "The harbour master has resigned with immediate effect. More to follow.";
  const chrome = (mostRead: string[], year: number) => ({
    header: `<header class="site-header"><a href="/">The Daily Example</a><nav><a href="/news">News</a> <a href="/sport">Sport</a> <a href="/weather">Weather</a></nav></header>`,
    aside: `<aside class="most-read"><h2>Most read</h2><ol>${mostRead.map((t, i) => `<li><a href="/story/${i}">${t}</a></li>`).join("")}</ol></aside>`,
    footer: `<footer><p>© ${year} The Daily Example. All rights reserved.</p><p><a href="/privacy">Privacy</a> <a href="/terms">Terms</a></p></footer>`,
  });
  const stubPage = (declaration: string, mostRead: string[], year: number, updated: string) => {
    const { header, aside, footer } = chrome(mostRead, year);
    return page(
      `<title>Harbour master resigns | The Daily Example</title>${declaration}`,
      `${header}<main><article><h1>Harbour master resigns</h1><p class="byline">By Ana Lima</p><time datetime="2026-03-02T08:00:00Z">${updated}</time><p>${STUB}</p></article>${aside}</main>${footer}`,
    );
  };
  const JSON_LD = `<script type="application/ld+json">{"@context":"https://schema.org","@type":"NewsArticle","headline":"Harbour master resigns"}</script>`;
  const OG = `<meta property="og:type" content="article">`;
  const READS = [
    "Ferry timetable changes for the winter",
    "Council tax to rise by four per cent",
    "Storm warning for the coast",
  ];
  const OTHER_READS = [
    "New bakery opens on the quay",
    "Lifeboat crew rescue two walkers",
    "Ferry timetable changes for the winter",
  ];

  it("keeps the text of a page that declares itself an article, however short", () => {
    for (const declaration of [JSON_LD, OG]) {
      const article = extractArticle(stubPage(declaration, READS, 2026, "2 minutes ago"));
      assert.ok(article, "a declared article of 11 words has an article");
      assert.equal(article.text, STUB);
    }
  });

  it("keeps the same text when only the furniture around the short article changes", () => {
    const before = extractArticle(stubPage(JSON_LD, READS, 2026, "2 minutes ago"));
    const after = extractArticle(stubPage(JSON_LD, OTHER_READS, 2027, "1 hour ago"));
    assert.equal(after?.text, before?.text);
  });

  it("finds no article on a short page that does not declare one", () => {
    const { header, footer } = chrome(READS, 2026);
    const notFound = page(
      "<title>Page not found | The Daily Example</title>",
      `${header}<main><h1>Page not found</h1><p>Sorry, we could not find that page. Try our search instead.</p></main>${footer}`,
    );
    assert.equal(extractArticle(notFound), null);
    assert.equal(extractArticle(stubPage("", READS, 2026, "2 minutes ago")), null);
  });
});

describe("extractArticle: markup a browser would show differently", () => {
  it("puts React's streamed segments where their templates are, not hidden at the end", () => {
    // Streaming SSR: the shell has placeholders, the late parts follow in hidden divs and a
    // script swaps them in. The raw HTML (a plain-HTTP recapture) must read as the browser shows it.
    const html = page(
      "<title>Sea wall</title>",
      `<main><article><h1>Sea wall</h1><p>${LEDE}</p><template id="B:0"></template><div>Loading…</div><p>${THIRD}</p><template id="P:a"></template></article></main>
      <div hidden id="S:0"><p>${SECOND}</p></div><div hidden id="S:a"><p>${LAST}</p></div>`,
    );
    assert.equal(extractArticle(html)?.text, [LEDE, SECOND, THIRD, LAST].join("\n\n"));
  });

  it("still drops hidden elements that are not streamed segments", () => {
    const html = page(
      "<title>Sea wall</title>",
      `<main><article><p>${LEDE}</p><div hidden id="S-0"><p>${SECOND}</p></div><p>${THIRD}</p></article></main>`,
    );
    assert.equal(extractArticle(html)?.text, [LEDE, THIRD].join("\n\n"));
  });

  it("keeps sections a table of contents links to, whatever words their ids slug", () => {
    const more = [LEDE.replace("Monday", "Tuesday"), SECOND.replace("three", "four")];
    const html = page(
      "<title>Sea wall</title>",
      `<main><article><h1>Sea wall</h1>
        <nav class="toc"><a href="#toc_vote">The vote</a> <a href="#toc_building-work">Building work</a></nav>
        ${paragraphs(LEDE, ...more)}
        <section id="toc_vote"><h2>The vote</h2><p>${SECOND}</p></section>
        <section id="toc_building-work"><h2>Building work</h2><p>${THIRD}</p></section>
        <p>${LAST}</p></article></main>`,
    );
    assert.equal(
      extractArticle(html)?.text,
      [LEDE, ...more, "The vote", SECOND, "Building work", THIRD, LAST].join("\n\n"),
    );
  });

  it("does not drop a wrapper named after the sidebar beside the article when it holds most of the page", () => {
    const html = page(
      "<title>Sea wall</title>",
      `<div class="layout-with-sidebar"><div class="lr-content">${paragraphs(LEDE, SECOND, THIRD, LAST, LEDE.replace("Monday", "Tuesday"), SECOND.replace("three", "four"))}</div>
        <div class="sidebar"><p>Teaser about something else entirely, with a few words to read.</p></div></div>
        <div class="more-posts">${paragraphs(`First teaser. ${THIRD}`, `Second teaser. ${SECOND}`, `Third teaser. ${LEDE}`, `Fourth teaser. ${LAST}`)}</div>`,
    );
    assert.match(
      extractArticle(html)?.text ?? "",
      /^The harbour council voted seven to two on Monday.*Tuesday/s,
    );
  });
});
