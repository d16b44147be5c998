/**
 * Reading what outlets publish: each feed format, sitemaps (an index, a Google News sitemap, a
 * gzipped child), section pages with and without a feed of their own, wrong encodings, and what
 * is not a document at all. Fixtures are in test/fixtures/sources/, written for these tests from
 * the formats' specifications and the shapes outlets serve.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { decodeDocument } from "../../shared/domain/sources/decode.ts";
import { preferredAlternate } from "../../shared/domain/sources/html-document.ts";
import { compileLinkPattern } from "../../shared/domain/sources/link-pattern.ts";
import type { SourceDocument, SourceEntry } from "../../shared/domain/sources/model.ts";
import { encodePollMessage, parsePollMessage } from "../../shared/domain/sources/poll-message.ts";
import { readSourceDocument } from "../../shared/domain/sources/read-document.ts";
import { newestFirst } from "../../shared/domain/sources/read-source.ts";
import { isJsonFeed, rootElementName } from "../../shared/domain/sources/root-element.ts";
import { sniffSourceDocument } from "../../shared/domain/sources/sniff-document.ts";
import { FetchError, InvalidRequestError } from "../../shared/errors.ts";

const fixture = (name: string) => readFileSync(new URL(`../fixtures/sources/${name}`, import.meta.url));

function read(name: string | Uint8Array, url: string, contentType?: string): SourceDocument | null {
  const body = typeof name === "string" ? fixture(name) : name;
  return readSourceDocument(body, url, { contentType, maxInflatedBytes: 1024 * 1024 });
}

function entriesOf(doc: SourceDocument | null): SourceEntry[] {
  assert.ok(doc, "a document");
  if ("entries" in doc) return doc.entries;
  if (doc.kind === "page") return doc.links;
  return doc.children;
}

describe("feeds", () => {
  it("RSS 2.0 as outlets publish it: the article's own link, HTML and entities in titles, relative links, permalink guids", () => {
    const doc = read("rss2-outlet.xml", "https://feeds.example/daily-example/world");
    assert.equal(doc?.kind, "feed");
    assert.equal(doc?.format, "rss");
    assert.equal(doc?.title, "The Daily Example – World");
    const entries = entriesOf(doc);
    assert.deepEqual(
      entries.map((e) => e.url),
      [
        // feedburner:origLink wins over the proxy's redirect link
        "https://news.example/world/2026/mar/03/minister-resigns?utm_source=rss&utm_medium=feed",
        // a relative link resolves against the channel's site
        "https://news.example/world/2026/mar/03/floods-evacuation",
        // no <link>: the guid is a permalink
        "https://news.example/world/live/2026/mar/02/summit",
        "https://news.example/world/2026/mar/03/floods-evacuation#comments",
      ],
      "the mailto: item is not an article",
    );
    assert.equal(entries[0]?.title, "Minister resigns after ‘leaked memo’ row");
    assert.equal(entries[0]?.publishedAt, "2026-03-03T09:40:00.000Z");
    assert.equal(entries[1]?.title, "Floods: 12 000 people evacuated & more expected");
  });

  it("RSS 0.91 with its Netscape doctype", () => {
    const doc = read("rss091.xml", "http://gazette.example/rss.xml");
    assert.equal(doc?.format, "rss");
    assert.deepEqual(
      entriesOf(doc).map((e) => [e.url, e.title]),
      [
        ["http://gazette.example/stories/council-budget.html", "Council approves budget"],
        ["http://gazette.example/stories/schools.html", "School's out"],
      ],
    );
  });

  it("RSS 1.0 (RDF)", () => {
    const doc = read("rss1-rdf.xml", "https://science.example/rss");
    assert.equal(doc?.format, "rdf");
    assert.equal(doc?.title, "Science Example");
    assert.deepEqual(
      entriesOf(doc).map((e) => [e.url, e.publishedAt]),
      [
        ["https://science.example/2026/comet", "2026-03-02T21:00:00.000Z"],
        ["https://science.example/2026/enzyme", "2026-03-01T10:00:00.000Z"],
      ],
    );
  });

  it("Atom 1.0: the alternate link, xml:base on the feed and on an entry, HTML titles", () => {
    const doc = read("atom.xml", "https://tribune.example/politics/atom.xml");
    assert.equal(doc?.format, "atom");
    assert.equal(doc?.title, "Tribune Politics");
    const entries = entriesOf(doc);
    assert.deepEqual(
      entries.map((e) => e.url),
      [
        "https://tribune.example/politics/2026/03/vote-recount",
        "https://tribune.example/opinion/2026/03/recount-matters",
      ],
    );
    assert.equal(entries[0]?.title, "Vote & recount: what happens now");
    assert.equal(entries[0]?.publishedAt, "2026-03-03T09:00:00.000Z");
  });

  it("JSON Feed 1.1: url, else external_url, resolved against the feed", () => {
    const doc = read("feed.json", "https://metro.example/feed.json");
    assert.equal(doc?.format, "json");
    assert.equal(doc?.title, "Metro Example");
    assert.deepEqual(
      entriesOf(doc).map((e) => e.url),
      [
        "https://metro.example/2026/03/03/bridge",
        "https://metro.example/2026/03/02/tram",
        "https://other.example/report",
      ],
    );
  });

  it("a feed whose bytes are windows-1252 although it declares UTF-8 reads as a browser reads it", () => {
    const doc = read("latin1-declared-utf8.xml", "https://quotidien.example/rss");
    assert.equal(doc?.title, "Le Quotidien d’Exemple");
    assert.equal(entriesOf(doc)[0]?.title, "Cafés fermés à Noël");
  });

  it("a byte-order mark, and a charset in Content-Type that is wrong", () => {
    const doc = read("bom-utf8.xml", "https://nordic.example/rss", "text/xml; charset=iso-8859-1");
    assert.equal(doc?.title, "Nordic Æxample", "the BOM wins over the header");
    assert.equal(entriesOf(doc)[0]?.title, "Øresund bridge reopens");
  });

  it("UTF-16 with its byte-order mark", () => {
    const text =
      '<?xml version="1.0" encoding="UTF-16"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Ünïcode</title><entry><title>ok</title><link href="https://u.example/1"/></entry></feed>';
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")]);
    const doc = read(bytes, "https://u.example/atom");
    assert.equal(doc?.title, "Ünïcode");
    assert.equal(entriesOf(doc).length, 1);
  });

  it("unclosed elements and undeclared entities do not stop a lenient read", () => {
    const text =
      '<rss version="2.0"><channel><title>Broken &copy; Times</title><item><title>First &hellip;</title><link>https://b.example/1</link></item><item><title>Second<link>https://b.example/2</link></item></channel>';
    const doc = read(new TextEncoder().encode(text), "https://b.example/rss");
    assert.equal(doc?.kind, "feed");
    assert.equal(doc?.title, "Broken © Times");
    assert.equal(entriesOf(doc)[0]?.url, "https://b.example/1");
  });

  it("an entity bomb in the doctype does not expand", () => {
    const lol = `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">]><rss version="2.0"><channel><title>&f;</title><item><link>https://x.example/1</link></item></channel></rss>`;
    const doc = read(new TextEncoder().encode(lol), "https://x.example/rss");
    assert.ok((doc?.title ?? "").length < 1000);
  });
});

describe("sitemaps", () => {
  it("an index lists its children with their dates; they are taken newest first", () => {
    const doc = read("sitemap-index.xml", "https://harbour.example/sitemap.xml");
    assert.equal(doc?.kind, "sitemap");
    assert.equal(doc?.format, "sitemapindex");
    const children = entriesOf(doc);
    assert.deepEqual(
      newestFirst(children).map((c) => c.url),
      [
        "https://harbour.example/sitemaps/news.xml",
        "https://harbour.example/sitemaps/archive-2025.xml.gz",
        "https://harbour.example/sitemaps/archive-2024.xml.gz",
      ],
    );
  });

  it("a Google News sitemap gives each article's title and publication date", () => {
    const doc = read("sitemap-news.xml", "https://harbour.example/sitemaps/news.xml");
    assert.equal(doc?.format, "urlset");
    assert.deepEqual(entriesOf(doc), [
      {
        url: "https://harbour.example/news/2026/03/03/harbour-fire",
        title: "Fire at the harbour: crews & residents",
        publishedAt: "2026-03-03T08:15:00.000Z",
      },
      {
        url: "https://harbour.example/news/2026/03/02/ferry-strike?page=1&ref=home",
        title: "Ferry strike called off",
        publishedAt: "2026-03-02T00:00:00.000Z",
      },
    ]);
  });

  it("a gzipped sitemap is inflated, whatever its Content-Type says", () => {
    const gz = gzipSync(fixture("sitemap-archive.xml"));
    const doc = read(gz, "https://harbour.example/sitemaps/archive-2025.xml.gz", "application/octet-stream");
    assert.deepEqual(
      entriesOf(doc).map((e) => e.url),
      [
        "https://harbour.example/news/2025/12/31/year-in-review",
        "https://harbour.example/news/2025/06/01/summer-festival",
      ],
    );
  });

  it("a gzip bomb stops at the cap with too_large", () => {
    const bomb = gzipSync(Buffer.alloc(8 * 1024 * 1024, 0x20));
    assert.ok(bomb.length < 20_000, "small on the wire");
    assert.throws(
      () => readSourceDocument(bomb, "https://x.example/s.xml.gz", { maxInflatedBytes: 1024 * 1024 }),
      (err) => err instanceof FetchError && err.code === "too_large",
    );
  });
});

describe("HTML pages", () => {
  it("a page's own feed: RSS preferred, JSON REST links ignored, <base href> honoured", () => {
    const doc = read("page-with-feed.html", "http://harbour.example/");
    assert.equal(doc?.kind, "page");
    assert.ok(doc?.kind === "page");
    assert.deepEqual(
      doc.alternates.map((a) => a.url),
      [
        "https://harbour.example/feeds/atom.xml",
        "https://harbour.example/feed/",
        "https://harbour.example/comments/feed/",
      ],
    );
    assert.equal(preferredAlternate(doc.alternates)?.url, "https://harbour.example/feed/");
  });

  it("a section page without a feed: every http(s) link, resolved, for the pattern to choose from", () => {
    const doc = read("section-page.html", "https://harbour.example/business");
    assert.ok(doc?.kind === "page");
    assert.equal(doc.title, "Business | Harbour Times");
    assert.deepEqual(doc.alternates, [], "oEmbed is not a feed");
    const matches = compileLinkPattern("/business/20\\d\\d/");
    const articles = doc.links.filter((l) => matches(l.url));
    assert.deepEqual(
      articles.map((l) => [l.url, l.title]),
      [
        ["https://harbour.example/business/2026/03/03/port-profits", "Port profits & record cargo"],
        ["https://harbour.example/business/2026/03/02/fish-prices?utm_campaign=front", "Fish prices fall"],
        ["https://harbour.example/business/2026/03/03/port-profits#comments", "12 comments"],
      ],
    );
    assert.ok(!doc.links.some((l) => l.url.startsWith("javascript:")));
  });
});

describe("what is not a source", () => {
  it("plain text, an empty body, JSON that is not a feed, XML of another kind", () => {
    assert.equal(read("not-a-feed.txt", "https://x.example/"), null);
    assert.equal(read(new Uint8Array(), "https://x.example/"), null);
    assert.equal(read(new TextEncoder().encode('{"error":"nope"}'), "https://x.example/"), null);
    assert.equal(
      read(new TextEncoder().encode("<svg xmlns='http://www.w3.org/2000/svg'/>"), "https://x.example/"),
      null,
    );
  });

  it("follow-time detection agrees with the poll's reader: a body that only starts like a feed is none", () => {
    const sniff = (body: Uint8Array) =>
      sniffSourceDocument(body, "https://x.example/feed", { maxInflatedBytes: 1024 * 1024 });
    const bodies: Array<[string, Uint8Array]> = [
      // Roots with nothing a reader can use: no channel, a channel one level too deep or hidden in
      // CDATA or a comment, a tag never closed, an attribute quote never closed.
      '<rss version="2.0">garbage \u0000 }{ not xml',
      "<rss",
      "<rss/>",
      "<rss>\n<channel",
      "<rss><foo><channel/></foo></rss>",
      "<rss></rss><channel/>",
      "<rss><![CDATA[<channel>]]></rss>",
      "<rss><!-- <channel> --></rss>",
      '<rss version="2.0><channel></channel></rss>',
      "<rdf:RDF>junk",
      "<feed",
      "<urlset",
      // Broken but readable, as the poll reads them: a channel left open, a misspelt close.
      "<rss><channel>",
      "<rss><channel>x</chanel></rss>",
      "<rss><Channel/></rss>",
      "<feed>garbage",
      "<atom:feed xmlns:atom='http://www.w3.org/2005/Atom'/>",
      "<sitemapindex>",
      "<ns:urlset/>",
    ]
      .map((text): [string, Uint8Array] => [text, new TextEncoder().encode(text)])
      .concat(
        readdirSync(new URL("../fixtures/sources/", import.meta.url)).map((name) => [name, fixture(name)]),
      );
    for (const [label, body] of bodies) {
      const read = readSourceDocument(body, "https://x.example/feed", { maxInflatedBytes: 1024 * 1024 });
      const sniffed = sniff(body);
      const shape = (d: { kind: string; format: string; title: string | null } | null) =>
        d && { kind: d.kind, format: d.format, title: d.title };
      assert.deepEqual(shape(sniffed), shape(read), label);
    }
    assert.equal(sniff(new TextEncoder().encode('<rss version="2.0">garbage')), null);
  });

  it("a JSON Feed that names its version with http:// is one too", () => {
    assert.equal(isJsonFeed({ version: "https://jsonfeed.org/version/1.1" }), true);
    assert.equal(isJsonFeed({ version: "http://jsonfeed.org/version/1" }), true);
    assert.equal(isJsonFeed({ version: "http://jsonfeed.example/version/1" }), false);
    assert.equal(isJsonFeed({ version: 1 }), false);
    const body = new TextEncoder().encode(
      '{"version":"http://jsonfeed.org/version/1","title":"Old style","items":[{"url":"https://x.example/a"}]}',
    );
    assert.deepEqual(entriesOf(read(body, "https://x.example/feed.json")), [{ url: "https://x.example/a" }]);
  });

  it("the root element is found past declarations, comments and doctypes", () => {
    assert.equal(
      rootElementName('\uFEFF<?xml version="1.0"?>\n<!-- hi --><!DOCTYPE x [<!ENTITY a "b">]>\n<rdf:RDF>'),
      "rdf:rdf",
    );
  });
});

describe("decoding and patterns", () => {
  it("an unknown charset label falls back to UTF-8, then windows-1252", () => {
    assert.equal(decodeDocument(Buffer.from("caf\u00e9", "utf8"), "text/xml; charset=x-nonsense"), "café");
    assert.equal(decodeDocument(Buffer.from([0x63, 0x61, 0x66, 0xe9])), "café");
  });

  it("link patterns run on RE2: catastrophic patterns stay linear, look-arounds are refused", () => {
    const started = performance.now();
    assert.equal(compileLinkPattern("(a+)+$")(`https://x.example/${"a".repeat(5000)}!`), false);
    assert.ok(performance.now() - started < 1000);
    assert.throws(
      () => compileLinkPattern("(?=news)"),
      (err) => err instanceof InvalidRequestError && err.code === "invalid_link_pattern",
    );
    assert.throws(() => compileLinkPattern(""), InvalidRequestError);
    assert.throws(() => compileLinkPattern("x".repeat(501)), InvalidRequestError);
  });

  it("poll messages round-trip with their lease, old ones without it still parse, and anything else is refused", () => {
    const lease = "2026-12-01T10:15:00.000Z";
    assert.deepEqual(parsePollMessage(encodePollMessage({ kind: "poll", sourceId: "src_01abc", lease })), {
      kind: "poll",
      sourceId: "src_01abc",
      lease,
    });
    // A message sent before the lease existed, still in the queue when the new worker starts.
    assert.deepEqual(parsePollMessage('{"kind":"poll","sourceId":"src_01abc"}'), {
      kind: "poll",
      sourceId: "src_01abc",
    });
    assert.equal(parsePollMessage('{"kind":"poll","sourceId":"src_01abc","lease":"soon"}'), null);
    assert.equal(parsePollMessage('{"kind":"poll","sourceId":"src_01abc","lease":42}'), null);
    assert.equal(parsePollMessage('{"captureId":"cap_1"}'), null);
    assert.equal(parsePollMessage('{"kind":"poll","sourceId":"../etc"}'), null);
    assert.equal(parsePollMessage("not json"), null);
  });
});
