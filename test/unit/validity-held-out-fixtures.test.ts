/**
 * A held-out wall set the validity bench reports apart: every page labelled, every label a page,
 * every class a wall class, and no page that would make a browser fetch an external host (the bench
 * and the tests send traffic to loopback only). This checks the fixtures, not the classifier.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import type { Validity } from "../../shared/domain/model.ts";

const WALL_CLASSES: ReadonlySet<Validity> = new Set([
  "challenge",
  "consent_wall",
  "paywall",
  "soft_404",
  "empty",
  "error_page",
]);
/** Only the blind set: its author was not to read the other wall fixtures. */
const SETS = ["held-out-2"];

/** Attributes and CSS that make a browser fetch what they name. */
const FETCHED = [
  /\b(?:src|href|action|poster|data|srcset|formaction)\s*=\s*["']?\s*(?:https?:)?\/\/[^"'\s>]+/gi,
  /url\(\s*["']?\s*(?:https?:)?\/\/[^)"']+/gi,
  /import\(\s*["'](?:https?:)?\/\/[^"']+/gi,
];

/** Absolute URLs a browser would fetch; `<a href>` and `<link rel=canonical>` lead nowhere by themselves. */
function fetchedExternalUrls(html: string): string[] {
  const withoutLinks = html
    .replace(/<a\b[^>]*>/gi, "")
    .replace(/<link\b[^>]*\brel=["']?(?:canonical|alternate)\b[^>]*>/gi, "");
  return FETCHED.flatMap((re) => withoutLinks.match(re) ?? []);
}

interface Manifest {
  pages: Array<{ file: string; validity: Validity; status: number; headers: Record<string, string> }>;
}

for (const set of SETS) {
  const dir = new URL(`../fixtures/validity/${set}/`, import.meta.url);
  const manifest = JSON.parse(readFileSync(new URL("held-out.json", dir), "utf8")) as Manifest;

  describe(`validity fixtures, ${set}`, () => {
    it("labels every page of the folder, and only those", () => {
      const pages = readdirSync(dir)
        .filter((f) => f.endsWith(".html"))
        .sort();
      assert.deepEqual(manifest.pages.map((p) => p.file).sort(), pages);
    });

    it("gives every page a wall class, an HTTP status and headers", () => {
      for (const page of manifest.pages) {
        assert.ok(WALL_CLASSES.has(page.validity), `${page.file}: ${page.validity} is not a wall class`);
        assert.ok(Number.isInteger(page.status) && page.status >= 200 && page.status < 600, page.file);
        assert.equal(typeof page.headers, "object", page.file);
      }
    });

    it("names no external host a browser would fetch", () => {
      for (const page of manifest.pages) {
        const html = readFileSync(new URL(page.file, dir), "utf8");
        assert.deepEqual(fetchedExternalUrls(html), [], page.file);
      }
    });
  });
}

describe("fetchedExternalUrls", () => {
  it("finds scripts, images, stylesheets and CSS urls on other hosts, and lets links and relative paths be", () => {
    const html = [
      '<script src="https://cdn.example/a.js"></script>',
      "<img src=//img.example/b.png>",
      '<link rel="stylesheet" href="https://css.example/c.css">',
      "<div style=\"background:url('https://bg.example/d.jpg')\"></div>",
      '<a href="https://news.example/other">other</a>',
      '<link rel="canonical" href="https://news.example/this">',
      '<img src="/local.png"><script src="app.js"></script>',
    ].join("\n");
    assert.deepEqual(fetchedExternalUrls(html), [
      'src="https://cdn.example/a.js',
      "src=//img.example/b.png",
      'href="https://css.example/c.css',
      "url('https://bg.example/d.jpg",
    ]);
  });
});
