/**
 * The URL's own history as the vendor-independent signal, through the capture worker's domain on
 * the embedded S3 and DynamoDB: a page no rule knows that shares almost nothing with the article's
 * last version and is much shorter is not an edit, while real edits — a large cut that keeps the
 * article's words, a rewrite of about its length, a shorter update of the same story — still are.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type EmbeddedStorage, startEmbeddedStorage } from "../support/embedded-storage.ts";
import { type Answer, article, PARAGRAPHS, servingSite } from "../support/serving-site.ts";

let storage: EmbeddedStorage;
before(async () => {
  storage = await startEmbeddedStorage();
});
after(async () => {
  await storage.close();
});

function site(name: string) {
  return servingSite(storage, `https://news.example/history/${name}`, { html: article() });
}

/** An interstitial in no wall's vocabulary (an app promotion), marked up as the page's article. */
const APP_PROMOTION: Answer = {
  html: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Get the app</title></head>
<body><article><h1>Get the Harbour Times app</h1>
<p>Our new app brings you the news of the coast with offline reading and alerts for the topics you follow.</p>
<p>Download it from your app store today and read on the go.</p><p><a href="/">Not now</a></p></article></body></html>`,
};

/** The same story told again in other words, about as long: an editor's rewrite. */
const REWRITE = [
  "Fixing the ageing northern pier will swallow four million in public money over the next twenty-four months, port officials admitted this week once underwater inspections revealed fractured footings.",
  "Back in the spring, structural experts cautioned directors that the sixty-year-old wharf was too weak for heavy lifting gear bought for the box terminal unless it got reinforced beforehand.",
  "Only three moorings will stay open during construction, so passenger boats should expect altered sailing schedules for much of July and August as crews rebuild everything along the southern side.",
  "Trawler owners based in the sheltered dock keep their spaces, officials promised, though fishmongers must relocate to a makeshift shed near the eastern jetty between spring and completion.",
  "Provincial ministers pledged to cover fifty per cent through a seaside development grant, while higher port charges, going up three per cent after new year, will fund everything else.",
];

describe("a page that shares almost nothing with the article's last version", () => {
  it("makes full → unknown short page → full no version, and says why", async () => {
    const s = site("app-promotion");
    const first = await s.capture();
    s.serve(APP_PROMOTION);
    const promo = await s.capture();
    assert.equal(promo.validity, "empty", promo.validityReason);
    assert.match(
      promo.validityReason ?? "",
      /share almost nothing .* last version \(\d+ words\); the article was not there/,
    );
    assert.equal(promo.versionId, undefined);
    s.serve({ html: article() });
    const back = await s.capture();
    assert.equal(back.validity, "ok");
    assert.equal(back.changed, false);
    assert.deepEqual(
      (await s.versions()).map((v) => v.versionId),
      [first.versionId],
    );
  });

  it("keeps a removal notice in the article's place a removal, not an empty page", async () => {
    const s = site("removal-notice");
    await s.capture();
    s.serve({
      html: article(
        [
          "Editor's note: this article has been withdrawn while we review concerns raised about its sourcing.",
        ],
        "Editor's note",
      ),
    });
    const gone = await s.capture();
    assert.equal(gone.validity, "soft_404", gone.validityReason);
    const versions = await s.versions();
    assert.equal(versions.length, 2);
    assert.deepEqual(versions[1]?.edit?.kinds, ["removed_article"]);
  });
});

describe("real edits the history rule must leave alone", () => {
  it("flags a large cut that keeps the article's words (its middle paragraphs only, under half its length)", async () => {
    const s = site("large-cut");
    await s.capture();
    s.serve({ html: article([PARAGRAPHS[1] as string, PARAGRAPHS[3] as string]) });
    const cut = await s.capture();
    assert.equal(cut.validity, "ok", cut.validityReason);
    assert.equal(cut.changed, true);
    assert.ok(cut.edit?.kinds.includes("removed"), JSON.stringify(cut.edit));
    assert.equal((await s.versions()).length, 2);
  });

  it("flags a rewrite of about the same length that shares few of the article's words", async () => {
    const s = site("rewrite");
    await s.capture();
    s.serve({ html: article(REWRITE, "Northern pier fix to swallow four million") });
    const rewritten = await s.capture();
    assert.equal(rewritten.validity, "ok", rewritten.validityReason);
    assert.equal(rewritten.changed, true);
    assert.equal(rewritten.edit?.significance, "major");
    assert.equal((await s.versions()).length, 2);
  });

  it("flags a much shorter update of the same story", async () => {
    const s = site("shorter-update");
    await s.capture();
    s.serve({
      html: article([
        "The harbour authority now says the north quay repairs will cost 6 million euros, not 4 million, and the works will take three years after more cracks were found.",
        "The fish market stays where it is, the authority said on Tuesday.",
      ]),
    });
    const update = await s.capture();
    assert.equal(update.validity, "ok", update.validityReason);
    assert.equal(update.changed, true);
    assert.equal((await s.versions()).length, 2);
  });
});
