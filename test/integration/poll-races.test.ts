/**
 * A poll that runs while its source changes: it must not write back what the change undid. On the
 * embedded DynamoDB with the real poll job, and the fixture site on loopback serving a feed that
 * answers 304 to its own ETag. Article links are on `*.example`, resolved through a table and never
 * fetched.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createGuardedHttpFetcher } from "../../shared/adapters/guarded-http-fetcher.ts";
import { changeSource } from "../../shared/domain/sources/manage-source.ts";
import type { SourceRecord } from "../../shared/domain/sources/model.ts";
import { type PollSourceDeps, pollSource } from "../../shared/domain/sources/poll-source.ts";
import { parseAllowedPrivateHosts } from "../../shared/domain/url.ts";
import { createLogger } from "../../shared/logger.ts";
import type { CaptureMessage, HttpFetcher } from "../../shared/ports.ts";
import { type EmbeddedStorage, startEmbeddedStorage } from "../support/embedded-storage.ts";
import { type FixtureSite, startFixtureSite } from "../support/fixture-site.ts";

const silent = createLogger({}, "silent");
const FEED = `<?xml version="1.0"?><rss version="2.0"><channel><title>Desk</title>
  <item><title>News</title><link>https://desk.example/news/ferries</link></item>
  <item><title>Sport</title><link>https://desk.example/sport/regatta</link></item></channel></rss>`;

let storage: EmbeddedStorage;
let site: FixtureSite;
const captures: CaptureMessage[] = [];

before(async () => {
  storage = await startEmbeddedStorage();
  site = await startFixtureSite();
  site.setRoute("/desk.rss", (req, res) => {
    if (req.headers["if-none-match"] === '"v1"') {
      res.writeHead(304).end();
      return;
    }
    res.writeHead(200, { "content-type": "application/rss+xml", etag: '"v1"' }).end(FEED);
  });
});

after(async () => {
  await site.close();
  await storage.close();
});

function depsWith(fetcher: HttpFetcher): PollSourceDeps {
  const allowedPrivateHosts = parseAllowedPrivateHosts(new URL(site.origin).host);
  return {
    sources: storage.sources,
    submit: {
      repository: storage.repository,
      queue: { enqueue: async (m) => void captures.push(m) },
      // Public, and never connected to: the captures are queued, not run.
      resolveHost: async (name) => (name.endsWith(".example") ? ["93.184.215.14"] : [name]),
      allowedPrivateHosts,
    },
    fetcher,
    logger: silent,
  };
}

async function createSource(sourceId: string, fields: Partial<SourceRecord> = {}): Promise<void> {
  const createdAt = new Date().toISOString();
  await storage.sources.createSource({
    sourceId,
    // One source per URL: the query (which the route ignores) keeps them apart.
    url: `${site.origin}/desk.rss?for=${sourceId}`,
    kind: "feed",
    title: null,
    pollEveryMinutes: 60,
    recapture: "off",
    paused: false,
    createdAt,
    articleCount: 0,
    nextPollAt: createdAt,
    ...fields,
  });
}

async function linkedPaths(sourceId: string): Promise<string[]> {
  const page = await storage.sources.listSourceUrls(sourceId, { limit: 10 });
  return page.items.map((link) => new URL(link.url).pathname).sort();
}

describe("a poll running while its source changes", () => {
  it("does not bring back the validators a linkPattern PATCH dropped: the next poll reads the feed with the new pattern", async () => {
    // Arrange: the poll reads the source (pattern /news/), then the PATCH lands while it fetches.
    await createSource("src_patchrace", { linkPattern: "/news/" });
    const real = createGuardedHttpFetcher({
      allowedPrivateHosts: parseAllowedPrivateHosts(new URL(site.origin).host),
      resolveHost: async (name) => [name],
    });
    let patchDuringFetch = true;
    const fetcher: HttpFetcher = {
      async fetch(url, options) {
        if (patchDuringFetch) {
          patchDuringFetch = false;
          await changeSource(storage.sources, "src_patchrace", { linkPattern: "/sport/" }, new Date());
        }
        return real.fetch(url, options);
      },
    };

    // Act: the racing poll, then the next one.
    const first = await pollSource(depsWith(fetcher), "src_patchrace");
    const afterRace = await storage.sources.getSource("src_patchrace");
    const second = await pollSource(depsWith(fetcher), "src_patchrace");

    // Assert: the racing poll linked by the pattern it read and recorded the poll, but left no
    // validators; so the next poll got the whole feed (no 304) and took the new pattern's link.
    assert.equal(first.kind, "polled");
    assert.equal(afterRace?.linkPattern, "/sport/");
    assert.ok(afterRace?.lastPolledAt, "the poll is recorded all the same");
    assert.equal(afterRace?.etag, undefined, "the old read's ETag is not written back");
    assert.equal(afterRace?.bodySha256, undefined, "nor its digest");
    assert.deepEqual(second.kind === "polled" && second.unchanged, false, "read whole, not answered 304");
    assert.deepEqual(await linkedPaths("src_patchrace"), ["/news/ferries", "/sport/regatta"]);
    assert.equal(
      (await storage.sources.getSource("src_patchrace"))?.etag,
      '"v1"',
      "validators learned again",
    );
  });

  it("keeps the validators when the pattern did not change (one write, as before)", async () => {
    await createSource("src_patchsame", { linkPattern: "/news/" });
    const source = (await storage.sources.getSource("src_patchsame")) as SourceRecord;
    const recorded = await storage.sources.recordPoll("src_patchsame", {
      polledAt: new Date().toISOString(),
      nextPollAt: new Date(Date.now() + 3600_000).toISOString(),
      error: null,
      linked: 0,
      linkPattern: source.linkPattern ?? null,
      lease: source.nextPollAt as string,
      set: { etag: '"v9"', bodySha256: "abc" },
    });
    assert.equal(recorded, true);
    const stored = await storage.sources.getSource("src_patchsame");
    assert.equal(stored?.etag, '"v9"');
    assert.equal(stored?.bodySha256, "abc");
  });

  it("a source with no pattern that got one during the poll loses the validators too", async () => {
    await createSource("src_patchnew");
    const read = (await storage.sources.getSource("src_patchnew")) as SourceRecord;
    await changeSource(storage.sources, "src_patchnew", { linkPattern: "/sport/" }, new Date());
    await storage.sources.recordPoll("src_patchnew", {
      polledAt: new Date().toISOString(),
      nextPollAt: new Date(Date.now() + 3600_000).toISOString(),
      error: null,
      linked: 0,
      linkPattern: read.linkPattern ?? null,
      set: { etag: '"v1"', lastModified: "Tue, 01 Dec 2026 10:00:00 GMT", seen: ["k1"] },
    });
    const stored = await storage.sources.getSource("src_patchnew");
    assert.equal(stored?.etag, undefined);
    assert.equal(stored?.lastModified, undefined);
    assert.deepEqual(stored?.seen, ["k1"], "what else the poll learned is recorded");
  });

  it("leaves the schedule a PATCH set while it ran, when its message carried the lease", async () => {
    // Arrange: claimed by a sweep at `lease`; then a PATCH moves the next poll elsewhere.
    const lease = new Date(Date.now() + 15 * 60_000).toISOString();
    await createSource("src_leaserace");
    const read = (await storage.sources.getSource("src_leaserace")) as SourceRecord;
    assert.equal(
      await storage.sources.claimDueSource("src_leaserace", read.nextPollAt as string, lease),
      true,
    );
    const patched = await changeSource(storage.sources, "src_leaserace", { pollEveryMinutes: 5 }, new Date());

    // Act: the poll records, then a later delivery of its message finds the host busy.
    const recorded = await storage.sources.recordPoll("src_leaserace", {
      polledAt: new Date().toISOString(),
      nextPollAt: new Date(Date.now() + 60 * 60_000).toISOString(),
      error: null,
      linked: 0,
      linkPattern: null,
      lease,
    });
    const deferred = await storage.sources.deferPoll(
      "src_leaserace",
      new Date(Date.now() + 5_000).toISOString(),
      lease,
    );

    // Assert: the poll is recorded, but the PATCH's schedule stands through both.
    assert.equal(recorded, true);
    assert.equal(deferred, false, "a stale lease defers nothing");
    const stored = await storage.sources.getSource("src_leaserace");
    assert.ok(stored?.lastPolledAt);
    assert.equal(stored?.nextPollAt, patched.nextPollAt);
  });
});
