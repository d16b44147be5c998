/**
 * The guarded plain-HTTP fetcher against servers on loopback: conditional GETs, the URL guard on
 * the first hop and on every redirect (private destinations refused unless ALLOW_PRIVATE_HOSTS
 * lists them, by name or address and port), the name resolved once and the connection pinned to the
 * checked address, and each cap failing with its code. Only loopback is ever connected to: the
 * refused destinations below are loopback ports and names that the allowlist does not cover.
 */
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { brotliCompressSync, gzipSync } from "node:zlib";
import { createGuardedHttpFetcher } from "../../shared/adapters/guarded-http-fetcher.ts";
import { parseAllowedPrivateHosts } from "../../shared/domain/url.ts";
import { FetchError } from "../../shared/errors.ts";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function listen(handler: Handler): Promise<{ server: Server; port: number; origin: string }> {
  const server = createServer(handler);
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;
  return { server, port, origin: `http://127.0.0.1:${port}` };
}

const FEED = '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title></channel></rss>';

let site: Awaited<ReturnType<typeof listen>>;
let other: Awaited<ReturnType<typeof listen>>;
const seen: Array<{
  path: string;
  host: string | undefined;
  ifNoneMatch: string | undefined;
  userAgent?: string | undefined;
  acceptLanguage?: string | undefined;
}> = [];

function failsWith(code: string, extra?: (err: FetchError) => void) {
  return (err: unknown) => {
    assert.ok(err instanceof FetchError, `a FetchError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    extra?.(err);
    return true;
  };
}

before(async () => {
  other = await listen((_req, res) => res.end("the other server"));
  site = await listen((req, res) => {
    const path = req.url ?? "/";
    seen.push({
      path,
      host: req.headers.host,
      ifNoneMatch: req.headers["if-none-match"] as string | undefined,
      userAgent: req.headers["user-agent"],
      acceptLanguage: req.headers["accept-language"],
    });
    if (path === "/feed.xml") {
      if (req.headers["if-none-match"] === '"v1"') {
        res.writeHead(304, { etag: '"v1"' }).end();
        return;
      }
      res.writeHead(200, {
        "content-type": "application/rss+xml",
        etag: '"v1"',
        "last-modified": "Tue, 03 Mar 2026 09:40:00 GMT",
      });
      res.end(FEED);
    } else if (path === "/gzip") {
      res.writeHead(200, { "content-type": "text/xml", "content-encoding": "gzip" }).end(gzipSync(FEED));
    } else if (path === "/br") {
      res
        .writeHead(200, { "content-type": "text/xml", "content-encoding": "br" })
        .end(brotliCompressSync(FEED));
    } else if (path === "/bomb") {
      res
        .writeHead(200, { "content-type": "text/xml", "content-encoding": "gzip" })
        .end(gzipSync(Buffer.alloc(4 * 1024 * 1024)));
    } else if (path === "/big-declared") {
      res.writeHead(200, { "content-length": String(64 * 1024) }).end(Buffer.alloc(64 * 1024));
    } else if (path === "/big-chunked") {
      res.writeHead(200, { "content-type": "text/xml" });
      for (let i = 0; i < 64; i++) res.write(Buffer.alloc(1024, 0x20));
      res.end();
    } else if (path === "/moved") {
      res.writeHead(301, { location: "/feed.xml" }).end();
    } else if (path === "/loop") {
      res.writeHead(302, { location: "/loop" }).end();
    } else if (path === "/to-other-port") {
      res.writeHead(302, { location: `${other.origin}/` }).end();
    } else if (path === "/to-localhost") {
      res.writeHead(302, { location: `http://localhost:${site.port}/feed.xml` }).end();
    } else if (path === "/to-file") {
      res.writeHead(302, { location: "file:///etc/passwd" }).end();
    } else if (path === "/missing") {
      res.writeHead(404).end("no");
    } else if (path === "/hang") {
      // never answers
    } else {
      res.writeHead(404).end();
    }
  });
});

after(async () => {
  site.server.closeAllConnections();
  other.server.closeAllConnections();
  await Promise.all([
    new Promise((done) => site.server.close(done)),
    new Promise((done) => other.server.close(done)),
  ]);
});

const allowSite = () => parseAllowedPrivateHosts(`127.0.0.1:${site.port}`);

describe("guarded HTTP fetcher", () => {
  it("fetches a feed with its validators, then a conditional GET answers 304", async () => {
    const fetcher = createGuardedHttpFetcher({ allowedPrivateHosts: allowSite() });
    const first = await fetcher.fetch(`${site.origin}/feed.xml`);
    assert.equal(first.notModified, false);
    assert.ok(!first.notModified);
    assert.equal(Buffer.from(first.body).toString(), FEED);
    assert.equal(first.etag, '"v1"');
    assert.equal(first.lastModified, "Tue, 03 Mar 2026 09:40:00 GMT");
    assert.equal(first.address, "127.0.0.1");
    const second = await fetcher.fetch(`${site.origin}/feed.xml`, {
      etag: first.etag,
      lastModified: first.lastModified,
    });
    assert.equal(second.notModified, true);
    assert.equal(seen.at(-1)?.ifNoneMatch, '"v1"');
  });

  it("asks as it is told (a recapture's probe: a browser's User-Agent, en-US) and hands back the headers", async () => {
    const fetcher = createGuardedHttpFetcher({
      allowedPrivateHosts: allowSite(),
      userAgent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/143.0.0.0",
      acceptLanguage: "en-US,en;q=0.9",
    });
    const answer = await fetcher.fetch(`${site.origin}/feed.xml`);
    assert.equal(seen.at(-1)?.userAgent, "Mozilla/5.0 (X11; Linux x86_64) Chrome/143.0.0.0");
    assert.equal(seen.at(-1)?.acceptLanguage, "en-US,en;q=0.9");
    assert.ok(!answer.notModified);
    assert.equal(answer.headers["content-type"], "application/rss+xml");
    assert.equal(answer.headers.etag, '"v1"');
  });

  it("undoes gzip and brotli Content-Encoding", async () => {
    const fetcher = createGuardedHttpFetcher({ allowedPrivateHosts: allowSite() });
    for (const path of ["/gzip", "/br"]) {
      const result = await fetcher.fetch(`${site.origin}${path}`);
      assert.ok(!result.notModified);
      assert.equal(Buffer.from(result.body).toString(), FEED, path);
    }
  });

  it("follows a redirect on an allowed host, and says where it went", async () => {
    const fetcher = createGuardedHttpFetcher({ allowedPrivateHosts: allowSite() });
    const result = await fetcher.fetch(`${site.origin}/moved`);
    assert.ok(!result.notModified);
    assert.equal(result.finalUrl, `${site.origin}/feed.xml`);
    assert.deepEqual(result.redirects, [`${site.origin}/feed.xml`]);
  });

  it("refuses a private address that ALLOW_PRIVATE_HOSTS does not list, before connecting", async () => {
    const before = seen.length;
    await assert.rejects(createGuardedHttpFetcher().fetch(`${site.origin}/feed.xml`), failsWith("blocked"));
    assert.equal(seen.length, before, "no request reached the server");
  });

  it("refuses a redirect to a private destination, a local name or another scheme", async () => {
    const fetcher = createGuardedHttpFetcher({ allowedPrivateHosts: allowSite() });
    await assert.rejects(fetcher.fetch(`${site.origin}/to-other-port`), failsWith("blocked"));
    await assert.rejects(fetcher.fetch(`${site.origin}/to-localhost`), failsWith("blocked"));
    await assert.rejects(fetcher.fetch(`${site.origin}/to-file`), failsWith("blocked"));
  });

  it("stops a redirect loop at the cap", async () => {
    const fetcher = createGuardedHttpFetcher({ allowedPrivateHosts: allowSite(), maxRedirects: 3 });
    await assert.rejects(fetcher.fetch(`${site.origin}/loop`), failsWith("too_many_redirects"));
  });

  it("caps the body on the wire (declared or not) and after decoding (a gzip bomb)", async () => {
    const fetcher = createGuardedHttpFetcher({
      allowedPrivateHosts: allowSite(),
      maxBytes: 16 * 1024,
      maxDecodedBytes: 256 * 1024,
    });
    await assert.rejects(fetcher.fetch(`${site.origin}/big-declared`), failsWith("too_large"));
    await assert.rejects(fetcher.fetch(`${site.origin}/big-chunked`), failsWith("too_large"));
    await assert.rejects(fetcher.fetch(`${site.origin}/bomb`), failsWith("too_large"));
  });

  it("times out a server that never answers, and reports HTTP errors and refused connections", async () => {
    const fetcher = createGuardedHttpFetcher({
      allowedPrivateHosts: parseAllowedPrivateHosts("127.0.0.1"),
      timeoutMs: 300,
    });
    const started = Date.now();
    await assert.rejects(fetcher.fetch(`${site.origin}/hang`), failsWith("timeout"));
    assert.ok(Date.now() - started < 3000);
    await assert.rejects(
      fetcher.fetch(`${site.origin}/missing`),
      failsWith("http_error", (err) => assert.equal(err.httpStatus, 404)),
    );
    const closed = await listen(() => {});
    const port = closed.port;
    await new Promise((done) => closed.server.close(done));
    await assert.rejects(fetcher.fetch(`http://127.0.0.1:${port}/`), failsWith("connection_failed"));
  });

  it("ends a body that stops short of its Content-Length at the stall limit, not the whole timeout", async () => {
    const liar = await listen((_req, res) => {
      res.writeHead(200, { "content-type": "application/rss+xml", "content-length": "100000" });
      res.write(FEED.slice(0, 40)); // and nothing more, on a connection held open
    });
    try {
      const fetcher = createGuardedHttpFetcher({
        allowedPrivateHosts: parseAllowedPrivateHosts("127.0.0.1"),
        timeoutMs: 20_000,
        stallTimeoutMs: 300,
      });
      const started = Date.now();
      await assert.rejects(
        fetcher.fetch(`${liar.origin}/feed.xml`),
        failsWith("timeout", (err) => assert.match(err.message, /sent nothing for 300 ms/)),
      );
      assert.ok(Date.now() - started < 10_000, `ended after ${Date.now() - started} ms`);
    } finally {
      liar.server.closeAllConnections();
      await new Promise((done) => liar.server.close(done));
    }
  });

  it("resolves a name once per hop and connects only to the address it checked", async () => {
    let lookups = 0;
    const fetcher = createGuardedHttpFetcher({
      // Allowed by address and port, as ALLOW_PRIVATE_HOSTS allows a name that resolves there.
      allowedPrivateHosts: allowSite(),
      resolveHost: async (host) => {
        assert.equal(host, "feeds.test");
        lookups++;
        // A second answer would point elsewhere (rebinding): it must never be asked for.
        return lookups === 1 ? ["127.0.0.1"] : ["127.0.0.2"];
      },
    });
    const result = await fetcher.fetch(`http://feeds.test:${site.port}/feed.xml`);
    assert.ok(!result.notModified);
    assert.equal(lookups, 1);
    assert.equal(seen.at(-1)?.host, `feeds.test:${site.port}`, "the request still names its host");
  });

  it("a name that does not resolve fails dns_failure; one that resolves to a private address is blocked", async () => {
    const failing = createGuardedHttpFetcher({
      resolveHost: async () => {
        throw Object.assign(new Error("getaddrinfo ENOTFOUND"), { code: "ENOTFOUND" });
      },
    });
    await assert.rejects(failing.fetch("https://nowhere.test/feed"), failsWith("dns_failure"));
    const rebinding = createGuardedHttpFetcher({ resolveHost: async () => ["127.0.0.1"] });
    await assert.rejects(rebinding.fetch(`http://feeds.test:${site.port}/feed.xml`), failsWith("blocked"));
  });
});
