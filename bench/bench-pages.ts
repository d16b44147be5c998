/**
 * The pages the performance benchmarks load: the fixture site's four articles (static,
 * script-rendered, lazy, consent) plus two heavier synthetic ones generated here and served by the
 * same fixture site — a photo-heavy article (many images and stylesheets) and a long article.
 * Everything is deterministic (a seeded generator), so an unchanged recapture really is unchanged.
 */
import { encodeRgbPng, encodeSolidPng, type FixtureSite } from "../test/support/fixture-site.ts";

export interface BenchPage {
  /** Short name used in tables. */
  name: string;
  path: string;
  /**
   * Text that only a complete capture has (script-rendered, lazy-loaded or behind a banner);
   * checked in our rendered HTML and in the bare load's DOM, to show what each one kept.
   */
  marker: string;
  /** The id of an element that must be gone (a cookie banner) for the page to show the article. */
  bannerId?: string;
}

export const BENCH_PAGES: readonly BenchPage[] = [
  { name: "static", path: "/static-article.html", marker: "Harbour council approves new sea wall" },
  { name: "script-rendered", path: "/script-article.html", marker: "SCRIPT-RENDERED-MARKER" },
  { name: "lazy", path: "/lazy-article.html", marker: "LAST-PARAGRAPH-MARKER" },
  {
    name: "consent",
    path: "/consent-article.html",
    marker: "CONSENT-ARTICLE-MARKER",
    bannerId: "cookie-consent",
  },
  { name: "many images (synthetic)", path: "/bench/gallery.html", marker: "GALLERY-END-MARKER" },
  { name: "long article (synthetic)", path: "/bench/long-article.html", marker: "LONG-END-MARKER" },
];

/** Where a page lives on the site, made unique per run so every capture is a first capture. */
export function pageUrl(site: FixtureSite, page: BenchPage, tag: string): string {
  return site.url(`${page.path}?bench=${encodeURIComponent(tag)}`);
}

const GALLERY_IMAGES = 24;
const GALLERY_STYLESHEETS = 6;
const LONG_PARAGRAPHS = 60;

/** Registers the synthetic pages and their assets on the fixture site. */
export function registerSyntheticPages(site: FixtureSite): void {
  const random = seededRandom(7);
  for (let i = 0; i < GALLERY_IMAGES; i++) {
    site.setPage(`/bench/img/photo-${i}.png`, encodeNoisyPng(480, 320, random), { contentType: "image/png" });
  }
  for (let i = 0; i < GALLERY_STYLESHEETS; i++) {
    site.setPage(`/bench/css/sheet-${i}.css`, stylesheet(i), { contentType: "text/css; charset=utf-8" });
  }
  site.setPage("/bench/img/texture.png", encodeSolidPng(64, 64, "eeeae0"), { contentType: "image/png" });
  site.setPage("/bench/gallery.html", galleryPage());
  site.setPage("/bench/long-article.html", longArticlePage(random));
}

function stylesheet(index: number): string {
  const rules: string[] = [];
  // Enough rules to weigh like a real site's stylesheet (~15 KB each), most of them unused.
  for (let i = 0; i < 160; i++) {
    rules.push(
      `.c${index}-${i} { margin: ${i % 7}px ${i % 5}px; padding: ${i % 3}px; color: #${(i * 9973 + index).toString(16).padStart(6, "0").slice(-6)}; border-bottom: 1px solid rgba(0,0,0,.${i % 9}); }`,
    );
  }
  if (index === 0) {
    rules.push(
      "body { font: 18px/1.6 Georgia, serif; margin: 0; background: #faf8f0 url(/bench/img/texture.png); }",
      ".story { max-width: 980px; margin: 0 auto; padding: 0 20px; }",
      ".grid { display: grid; grid-template-columns: repeat(2, 1fr); gap: 16px; }",
      ".grid figure { margin: 0; } .grid img { width: 100%; height: auto; display: block; }",
      "header.site, footer.site { background: #202830; color: #fff; padding: 16px 20px; }",
    );
  }
  return rules.join("\n");
}

function siteChrome(): { header: string; footer: string } {
  const links = Array.from({ length: 40 }, (_, i) => `<a href="/section/${i}">Section ${i}</a>`).join(" ");
  return {
    header: `<header class="site"><strong>The Bench Courier</strong><nav>${links}</nav></header>`,
    footer: `<footer class="site"><p>© The Bench Courier</p><nav>${links}</nav></footer>`,
  };
}

function galleryPage(): string {
  const { header, footer } = siteChrome();
  const sheets = Array.from(
    { length: GALLERY_STYLESHEETS },
    (_, i) => `<link rel="stylesheet" href="/bench/css/sheet-${i}.css">`,
  ).join("\n");
  const figures = Array.from(
    { length: GALLERY_IMAGES },
    (_, i) =>
      `<figure><img src="/bench/img/photo-${i}.png" width="480" height="320" alt="Photo ${i}"><figcaption>Photo ${i + 1} of the harbour works, seen from the north pier.</figcaption></figure>`,
  ).join("\n");
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>The harbour works in pictures | The Bench Courier</title>
<meta property="article:published_time" content="2026-03-02T08:00:00Z">
${sheets}
</head><body>
${header}
<article class="story">
<h1>The harbour works in pictures</h1>
<p class="byline">By Ana Lima</p>
<p>Work on the new sea wall has reached the north pier, where cranes lift the last concrete blocks into place.</p>
<p>Our photographer spent a week with the crews, from the night shifts to the first tide that tested the wall.</p>
<div class="grid">
${figures}
</div>
<p>GALLERY-END-MARKER: the council expects the works to finish before the winter storms.</p>
</article>
${footer}
<script>window.benchAnalytics = { loaded: Date.now() };</script>
</body></html>`;
}

const WORDS =
  "harbour council wall tide crane pier budget ferry storm engineer concrete mayor vote contract island quay dredging port fishermen report evidence schedule delay inquiry".split(
    " ",
  );

function longArticlePage(random: () => number): string {
  const { header, footer } = siteChrome();
  const paragraphs: string[] = [];
  for (let i = 0; i < LONG_PARAGRAPHS; i++) {
    if (i > 0 && i % 15 === 0) paragraphs.push(`<h2>Part ${i / 15 + 1}</h2>`);
    if (i > 0 && i % 30 === 0) {
      paragraphs.push(
        `<figure><img src="/img/680x380-${(0x3a5f80 + i * 977).toString(16).slice(-6)}.png" width="680" height="380" alt="Figure ${i}"></figure>`,
      );
    }
    const sentences = Array.from({ length: 4 }, () => {
      const words = Array.from({ length: 10 + Math.floor(random() * 8) }, () => {
        return WORDS[Math.floor(random() * WORDS.length)] ?? "harbour";
      });
      const sentence = words.join(" ");
      return `${sentence.charAt(0).toUpperCase()}${sentence.slice(1)}.`;
    });
    paragraphs.push(`<p>${sentences.join(" ")}</p>`);
  }
  const related = Array.from(
    { length: 20 },
    (_, i) => `<li><a href="/story/${i}">Related story number ${i}</a></li>`,
  ).join("");
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Inside the harbour inquiry | The Bench Courier</title>
<meta property="article:published_time" content="2026-03-03T06:00:00Z">
<link rel="stylesheet" href="/bench/css/sheet-0.css">
<link rel="stylesheet" href="/styles/article.css">
</head><body>
${header}
<article class="story">
<h1>Inside the harbour inquiry</h1>
<p class="byline">By Ravi Menon</p>
${paragraphs.join("\n")}
<p>LONG-END-MARKER: the inquiry will publish its report in the spring.</p>
</article>
<aside><h2>Most read</h2><ul>${related}</ul></aside>
${footer}
</body></html>`;
}

/** Mulberry32: a small, fast, seeded generator (deterministic pages, so dedup can work). */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A photo-like PNG: a gradient with noise, so it compresses about as badly as a photo does. */
function encodeNoisyPng(width: number, height: number, random: () => number): Buffer {
  const base = [random() * 200, random() * 200, random() * 200];
  const raw = Buffer.alloc((1 + width * 3) * height);
  let offset = 0;
  for (let y = 0; y < height; y++) {
    raw[offset++] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        const value = (base[c] ?? 0) + (x + y) / 16 + random() * 2;
        raw[offset++] = Math.min(255, Math.floor(value));
      }
    }
  }
  return encodeRgbPng(width, height, raw);
}
