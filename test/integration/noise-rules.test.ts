/**
 * Noise rules end to end: set through the API on a URL the local runner archives with a real
 * Chromium, they keep a live ticker and small changes from making versions, from the next
 * capture on, while a real edit is still flagged; a source's rules reach the URLs it found.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { noiseRulesCommand } from "../../cli/noise-rules-command.ts";
import { type LocalRunner, startLocalRunner } from "../../local/runner.ts";
import { createLogger } from "../../shared/logger.ts";
import { captureUntilDone } from "../support/capture-client.ts";
import { type FixtureSite, startFixtureSite } from "../support/fixture-site.ts";
import type { Json } from "../support/json.ts";

let site: FixtureSite;
let runner: LocalRunner;
let dataDir: string;

before(async () => {
  site = await startFixtureSite();
  dataDir = await mkdtemp(join(tmpdir(), "palimpsest-noise-rules-"));
  runner = await startLocalRunner({
    dataDir,
    port: 0,
    logger: createLogger({}, "silent"),
    env: {
      ALLOW_PRIVATE_HOSTS: new URL(site.origin).host,
      CAPTURE_NAVIGATION_TIMEOUT_MS: "5000",
      CAPTURE_IDLE_TIMEOUT_MS: "2000",
    },
  });
});

after(async () => {
  await runner?.close();
  await site?.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function call(method: string, path: string, body?: unknown) {
  const response = await fetch(`${runner.url}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: JSON.parse(text) as Record<string, Json>, text };
}

const PARAGRAPHS = [
  "Repairs to the harbour wall began on Monday after two winters of storm damage left parts of the quay unsafe.",
  "The council said the work would take eighteen months and that the fish market would stay open throughout.",
  "Engineers will replace the upper courses of stone and add a concrete apron at the foot of the wall.",
];

/** A story with a live market ticker inside the article, which the extractor keeps as text. */
function story(ticker: string, paragraphs: readonly string[] = PARAGRAPHS): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Harbour wall repairs begin</title></head>
<body><article><h1>Harbour wall repairs begin</h1>
<div class="live-ticker"><p>Markets now: the harbour index stands at ${ticker} after a busy morning of trading on the quay.</p></div>
${paragraphs.map((p) => `<p>${p}</p>`).join("\n")}
</article></body></html>`;
}

describe("noise rules on a URL", () => {
  it("drop a ticker and small changes from the next capture on, and still flag a real edit", async () => {
    const path = "/noise/ticker";
    site.setPage(path, story("7,431.2 points"));
    const first = await captureUntilDone(runner.url, site.url(path));
    const urlId = String(first.urlId);

    // Without rules the ticker is article text, and its moving figure an edit.
    site.setPage(path, story("7,455.9 points"));
    const ticked = await captureUntilDone(runner.url, site.url(path));
    assert.equal(ticked.changed, true, "the precondition: the ticker reads as an edit without rules");

    const put = await call("PUT", `/v1/urls/${urlId}/noise-rules`, {
      dropSelectors: [".live-ticker"],
      minChangedWords: 3,
    });
    assert.equal(put.status, 200, put.text);
    assert.deepEqual(put.json.dropSelectors, [".live-ticker"]);
    assert.equal(put.json.minChangedWords, 3);
    assert.deepEqual((put.json.inEffect as Record<string, Json>).from, [{ scope: "url", id: urlId }]);

    // The rule applies from now on: the ticker moving again is no edit, and dropping it from a
    // version made before the rule is not one either.
    site.setPage(path, story("7,502.0 points"));
    const ruled = await captureUntilDone(runner.url, site.url(path));
    assert.equal(ruled.changed, false, JSON.stringify(ruled.edit));
    assert.equal(ruled.versionId, ticked.versionId);

    // A one-word fix is below the threshold of three changed words.
    const fixed = PARAGRAPHS.map((p) => p.replace("eighteen months", "eighteen month"));
    site.setPage(path, story("7,390.4 points", fixed));
    const small = await captureUntilDone(runner.url, site.url(path));
    assert.equal(small.changed, false, JSON.stringify(small.edit));

    // A sentence added is an edit, threshold or not; the ticker is not part of it.
    const added = [
      ...fixed,
      "A second phase, along the northern breakwater, will follow in 2028 if funding allows.",
    ];
    site.setPage(path, story("7,611.3 points", added));
    const edited = await captureUntilDone(runner.url, site.url(path));
    assert.equal(edited.changed, true);
    // Compared with the last version (made before the rule) as read under it: the sentence and
    // the small fix held back earlier, which now counts with it; no ticker removed.
    const edit = edited.edit as { kinds: string[]; stats: { wordsDeleted: number } };
    assert.ok(edit.kinds.includes("added"), JSON.stringify(edit));
    assert.ok(!edit.kinds.includes("removed"), JSON.stringify(edit));
    assert.equal(edit.stats.wordsDeleted, 1, `only "months" went: ${JSON.stringify(edit)}`);

    const diff = await call("GET", `/v1/urls/${urlId}/diff`);
    assert.equal(diff.status, 200);
    assert.deepEqual((diff.json.noiseRules as Record<string, Json>).dropSelectors, [".live-ticker"]);
    assert.equal((diff.json.noiseRules as Record<string, Json>).minChangedWords, 3);

    const page = await fetch(`${runner.url}/ui/urls/${urlId}/diff`);
    const html = await page.text();
    assert.equal(page.status, 200, html.slice(0, 300));
    assert.match(html, /Noise rules/);
    assert.match(html, /\.live-ticker/);

    // The command line shows and changes the same rules.
    const lines: string[] = [];
    const io = { out: (line: string) => lines.push(line), err: (line: string) => lines.push(line) };
    const previousApi = process.env.PALIMPSEST_API;
    process.env.PALIMPSEST_API = runner.url;
    try {
      assert.equal(await noiseRulesCommand.run([urlId], io), 0);
      assert.match(lines.join("\n"), /drop: \.live-ticker\nmin changed words: 3/);
      assert.equal(
        await noiseRulesCommand.run([urlId, "--drop", ".ticker", "--drop", "#clock", "--json"], io),
        0,
      );
      assert.deepEqual(JSON.parse(lines.at(-1) ?? "").dropSelectors, [".ticker", "#clock"]);
      assert.equal(await noiseRulesCommand.run([urlId, "--clear"], io), 0);
    } finally {
      if (previousApi === undefined) delete process.env.PALIMPSEST_API;
      else process.env.PALIMPSEST_API = previousApi;
    }
    assert.deepEqual((await call("GET", `/v1/urls/${urlId}/noise-rules`)).json.dropSelectors, []);
    const cleared = await call("DELETE", `/v1/urls/${urlId}/noise-rules`);
    assert.equal(cleared.status, 200);
    assert.equal(cleared.json.minChangedWords, 0);
  });

  it("are set and cleared from the URL page's form, and the next comparison applies them", async () => {
    const path = "/noise/form-ticker";
    site.setPage(path, story("3,101.5 points"));
    const first = await captureUntilDone(runner.url, site.url(path));
    const urlId = String(first.urlId);
    const pagePath = `/ui/urls/${urlId}`;

    const before = await fetch(`${runner.url}${pagePath}`);
    const cookie = (before.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    const beforeHtml = await before.text();
    assert.match(beforeHtml, /None set on this URL/);
    const csrf = /name="csrf" value="([^"]+)"/.exec(beforeHtml)?.[1] ?? assert.fail("no CSRF token");
    const post = (fields: Record<string, string>, headers: Record<string, string> = {}) =>
      fetch(`${runner.url}${pagePath}`, {
        method: "POST",
        redirect: "manual",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          origin: runner.url,
          "sec-fetch-site": "same-origin",
          cookie,
          ...headers,
        },
        body: new URLSearchParams({ csrf, ...fields }).toString(),
      });

    const saved = await post({
      action: "set-noise-rules",
      dropSelectors: ".live-ticker\r\n",
      minChangedWords: "",
    });
    assert.equal(saved.status, 303, await saved.text());
    assert.equal(new URL(saved.headers.get("location") ?? "", runner.url).pathname, pagePath);
    const rules = (await call("GET", `/v1/urls/${urlId}/noise-rules`)).json;
    assert.deepEqual(rules.dropSelectors, [".live-ticker"]);
    assert.equal(rules.minChangedWords, 0);
    const shown = await (await fetch(`${runner.url}${pagePath}`, { headers: { cookie } })).text();
    assert.match(shown, /Set on this URL:[\s\S]*<code>\.live-ticker<\/code>/);
    assert.match(
      shown,
      /<textarea id="drop-selectors"[^>]*>\.live-ticker<\/textarea>/,
      "the form shows the rules set",
    );

    // The next capture is compared under the rule: the ticker moving is no edit.
    site.setPage(path, story("3,188.0 points"));
    const ruled = await captureUntilDone(runner.url, site.url(path));
    assert.equal(ruled.changed, false, JSON.stringify(ruled.edit));

    // A bad selector (or threshold) is refused on the page with what was typed, and nothing changes.
    const refused = await post({
      action: "set-noise-rules",
      dropSelectors: ".live-ticker\n#clock\nul > > li",
      minChangedWords: "2",
    });
    assert.equal(refused.status, 400);
    const refusedHtml = await refused.text();
    assert.match(
      refusedHtml,
      /<textarea id="drop-selectors"[^>]*aria-invalid="true"[^>]*>\.live-ticker\n#clock\nul &gt; &gt; li<\/textarea>/,
    );
    assert.match(refusedHtml, /class="field-error">&quot;ul &gt; &gt; li&quot; is not a CSS selector/);
    assert.match(refusedHtml, /id="min-changed-words"[^>]*value="2"/);
    const badNumber = await post({
      action: "set-noise-rules",
      dropSelectors: "#clock",
      minChangedWords: "2.5",
    });
    assert.equal(badNumber.status, 400);
    assert.match(await badNumber.text(), /id="min-changed-words"[^>]*value="2\.5"[^>]*aria-invalid="true"/);
    assert.deepEqual((await call("GET", `/v1/urls/${urlId}/noise-rules`)).json.dropSelectors, [
      ".live-ticker",
    ]);

    // A forged POST (no matching token, or sent from another site) changes nothing.
    const forged = await post({ action: "clear-noise-rules", csrf: "forged" });
    assert.equal(forged.status, 403);
    assert.match(await forged.text(), /invalid_csrf_token/);
    const foreign = await post(
      { action: "clear-noise-rules" },
      { origin: "https://evil.example", "sec-fetch-site": "cross-site" },
    );
    assert.equal(foreign.status, 403);
    assert.match(await foreign.text(), /cross_site_form/);
    assert.deepEqual((await call("GET", `/v1/urls/${urlId}/noise-rules`)).json.dropSelectors, [
      ".live-ticker",
    ]);

    const cleared = await post({ action: "clear-noise-rules" });
    assert.equal(cleared.status, 303);
    assert.deepEqual((await call("GET", `/v1/urls/${urlId}/noise-rules`)).json.dropSelectors, []);
    // Without the rule, the ticker is text again: its next move is an edit.
    site.setPage(path, story("3,240.7 points"));
    assert.equal((await captureUntilDone(runner.url, site.url(path))).changed, true);
  });

  it("refuses rules that are not rules, and URLs that are not archived", async () => {
    const bad = await call("PUT", "/v1/urls/u_missing/noise-rules", { dropSelectors: ["p"] });
    assert.equal(bad.status, 404);
    const first = await captureUntilDone(runner.url, site.url("/static-article.html"));
    const path = `/v1/urls/${first.urlId}/noise-rules`;
    for (const [body, code] of [
      [{ dropSelectors: ["div[[["] }, "invalid_selectors"],
      [{ dropSelectors: ["body"] }, "invalid_selectors"],
      [{ dropSelectors: "p" }, "invalid_selectors"],
      [{ minChangedWords: -1 }, "invalid_min_changed_words"],
      [{ minChangedWords: 2.5 }, "invalid_min_changed_words"],
      [{ ignore: [".x"] }, "unknown_field"],
      [[".x"], "invalid_body"],
    ] as const) {
      const answer = await call("PUT", path, body);
      assert.equal(answer.status, 400, JSON.stringify(body));
      assert.equal((answer.json.error as Record<string, Json>).code, code, JSON.stringify(body));
    }
  });
});
