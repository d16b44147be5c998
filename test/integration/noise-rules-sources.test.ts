/**
 * A source's noise rules reach the URLs it found, now and later, through the DynamoDB adapter
 * on the embedded server, and stop reaching them when cleared.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  inheritSourceNoiseRules,
  readNoiseRules,
  setNoiseRules,
} from "../../shared/domain/extract/manage-noise-rules.ts";
import { type EmbeddedStorage, startEmbeddedStorage } from "../support/embedded-storage.ts";

let storage: EmbeddedStorage;

before(async () => {
  storage = await startEmbeddedStorage();
});

after(async () => {
  await storage?.close();
});

async function archivedUrl(urlId: string): Promise<void> {
  await storage.repository.ensureUrl({
    urlId,
    url: `https://news.example/${urlId}`,
    captureCount: 0,
    versionCount: 0,
    recapture: "adaptive",
    createdAt: "2026-12-01T00:00:00.000Z",
  });
}

describe("noise rules of a source", () => {
  it("apply to every URL the source found, to ones it finds later, and stop when cleared", async () => {
    const sourceId = "src_harbournews";
    await storage.sources.createSource({
      sourceId,
      url: "https://news.example/feed.xml",
      kind: "feed",
      title: "Harbour News",
      pollEveryMinutes: 15,
      recapture: "adaptive",
      paused: false,
      createdAt: "2026-12-01T00:00:00.000Z",
      articleCount: 0,
    });
    for (const urlId of ["u_one", "u_two"]) {
      await archivedUrl(urlId);
      await storage.sources.linkUrl({
        sourceId,
        urlId,
        url: `https://news.example/${urlId}`,
        foundAt: "2026-12-01T00:00:00.000Z",
        submitted: true,
      });
    }
    await storage.repository.putNoiseRules?.("url", "u_one", {
      dropSelectors: [".clock"],
      minChangedWords: 2,
    });

    const deps = { repository: storage.repository, sources: storage.sources };
    const set = await setNoiseRules(deps, "source", sourceId, {
      dropSelectors: [".ticker"],
      minChangedWords: 4,
    });
    assert.deepEqual(set, { scope: "source", id: sourceId, dropSelectors: [".ticker"], minChangedWords: 4 });

    const one = await readNoiseRules(deps, "url", "u_one");
    assert.deepEqual(one.dropSelectors, [".clock"], "the URL's own rules are its own");
    assert.deepEqual(one.inEffect, {
      dropSelectors: [".clock", ".ticker"],
      minChangedWords: 4,
      from: [
        { scope: "url", id: "u_one" },
        { scope: "source", id: sourceId },
      ],
    });
    assert.deepEqual((await storage.repository.noiseRulesForUrl?.("u_two"))?.dropSelectors, [".ticker"]);

    // A URL found by a later poll inherits them (poll-source.ts does this on each new link).
    await archivedUrl("u_three");
    const sourceRules = (await storage.repository.getNoiseRules?.("source", sourceId)) ?? null;
    await inheritSourceNoiseRules(storage.repository, sourceRules, sourceId, "u_three");
    assert.deepEqual((await storage.repository.noiseRulesForUrl?.("u_three"))?.dropSelectors, [".ticker"]);

    await setNoiseRules(deps, "source", sourceId, null);
    assert.deepEqual(await storage.repository.noiseRulesForUrl?.("u_two"), {
      dropSelectors: [],
      minChangedWords: 0,
      from: [],
    });
    assert.deepEqual((await storage.repository.noiseRulesForUrl?.("u_one"))?.dropSelectors, [".clock"]);
    // The URL's versions are untouched by rule items in its partition.
    assert.deepEqual(await storage.repository.listVersions("u_one"), []);
  });

  it("refuses rules for a source that does not exist", async () => {
    await assert.rejects(
      setNoiseRules(
        { repository: storage.repository, sources: storage.sources },
        "source",
        "src_nothere",
        {},
      ),
      (err: Error & { code?: string }) => err.code === "source_not_found",
    );
  });
});
