/**
 * The egress proxy on its own, driven with raw HTTP: what it lets through, what it refuses before
 * connecting, and that it connects only to the address it checked.
 *
 * Traffic goes to loopback only. The proxy's connector is replaced by one that records every
 * connection and refuses any address outside 127.0.0.0/8, so even a broken guard could not reach
 * another network; names resolve through a table, never through DNS. Canaries are raw TCP servers
 * on loopback ports that are not allowlisted and must never see a connection.
 */
import assert from "node:assert/strict";
import { createServer as createHttpServer, request, type Server } from "node:http";
import { type AddressInfo, createServer, type Server as NetServer, connect as netConnect } from "node:net";
import { after, before, describe, it } from "node:test";
import { createEgressProxy } from "../../shared/adapters/egress/egress-proxy.ts";
import type { ConnectToAddress, EgressProxy } from "../../shared/adapters/egress/types.ts";
import { parseAllowedPrivateHosts } from "../../shared/domain/url.ts";
import type { ResolveHost } from "../../shared/ports.ts";

interface Canary {
  address: string;
  port: number;
  connections: number;
  close(): Promise<void>;
}

/** A TCP server that counts connections and answers nothing. */
async function startCanary(address: string, port = 0): Promise<Canary> {
  let connections = 0;
  const server: NetServer = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, address, () => resolve());
  });
  return {
    address,
    port: (server.address() as AddressInfo).port,
    get connections() {
      return connections;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Every connection the proxy opened, as address:port; anything outside loopback is refused. */
const connections: string[] = [];
const loopbackOnly: ConnectToAddress = (address, port) => {
  connections.push(`${address}:${port}`);
  if (!address.startsWith("127.")) throw new Error(`the test connector refuses ${address}`);
  return netConnect({ host: address, port });
};

const notFound = (host: string) => Object.assign(new Error(`ENOTFOUND ${host}`), { code: "ENOTFOUND" });

let site: Server;
let sitePort: number;
const siteRequests: string[] = [];
let canary: Canary;
/** Listens on 127.0.0.2 at the site's port: where a rebinding answer would lead. */
let rebindCanary: Canary;

before(async () => {
  site = createHttpServer((req, res) => {
    siteRequests.push(`${req.method} ${req.headers.host} ${req.url}`);
    if (req.url === "/big") {
      res.writeHead(200, { "content-type": "application/octet-stream" });
      res.end(Buffer.alloc(256 * 1024));
      return;
    }
    if (req.url === "/hang") return;
    res.writeHead(200, { "content-type": "text/plain", "x-upstream": "site" });
    res.end(`hello ${req.url}`);
  });
  site.on("upgrade", (req, socket) => {
    siteRequests.push(`UPGRADE ${req.headers.host} ${req.url}`);
    socket.end(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nhello-ws",
    );
  });
  // The site's port must also be free on 127.0.0.2 for the rebinding canary; retry until it is.
  for (let attempt = 0; ; attempt++) {
    await new Promise<void>((resolve) => site.listen(0, "127.0.0.1", resolve));
    sitePort = (site.address() as AddressInfo).port;
    try {
      rebindCanary = await startCanary("127.0.0.2", sitePort);
      break;
    } catch (err) {
      await new Promise((resolve) => site.close(resolve));
      if (attempt > 5) throw err;
    }
  }
  canary = await startCanary("127.0.0.1");
});

after(async () => {
  site.closeAllConnections();
  await new Promise((resolve) => site.close(resolve));
  await canary.close();
  await rebindCanary.close();
});

function proxyFor(options: {
  resolveHost?: ResolveHost;
  allow?: string;
  maxBytes?: number;
  idleMs?: number;
}) {
  return createEgressProxy({
    allowedPrivateHosts: parseAllowedPrivateHosts(options.allow ?? `127.0.0.1:${sitePort}`),
    resolveHost:
      options.resolveHost ??
      (async (host) => {
        throw notFound(host);
      }),
    connect: loopbackOnly,
    maxBytesPerSession: options.maxBytes,
    idleTimeoutMs: options.idleMs,
    connectTimeoutMs: 2_000,
  });
}

/** An absolute-form request through the proxy. */
function viaProxy(
  proxyUrl: string,
  target: string,
  init: { method?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const proxy = new URL(proxyUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: proxy.hostname,
        port: proxy.port,
        method: init.method ?? "GET",
        path: target,
        headers: { host: new URL(target).host, ...init.headers },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/** A CONNECT through the proxy: the status line, and the tunnel when it was established. */
function connectVia(
  proxyUrl: string,
  authority: string,
): Promise<{ status: number; socket?: import("node:net").Socket }> {
  const proxy = new URL(proxyUrl);
  return new Promise((resolve, reject) => {
    const req = request({
      host: proxy.hostname,
      port: proxy.port,
      method: "CONNECT",
      path: authority,
      agent: false,
    });
    req.on("connect", (res, socket) => {
      if (res.statusCode === 200) resolve({ status: 200, socket });
      else {
        socket.destroy();
        resolve({ status: res.statusCode ?? 0 });
      }
    });
    req.on("error", reject);
    req.end();
  });
}

describe("egress proxy", () => {
  let proxy: EgressProxy;
  before(() => {
    connections.length = 0;
  });
  after(async () => {
    await proxy?.close();
    assert.deepEqual(
      connections.filter((c) => !c.startsWith("127.0.0.1:")),
      [],
      "the proxy never tried to connect outside 127.0.0.1",
    );
  });

  it("forwards absolute-form requests to an allowlisted host and counts the bytes", async () => {
    proxy = proxyFor({});
    const session = await proxy.openSession();
    const res = await viaProxy(session.proxyUrl, `http://127.0.0.1:${sitePort}/a?b=1`, {
      headers: { "proxy-connection": "keep-alive", "proxy-authorization": "secret" },
    });
    assert.equal(res.status, 200);
    assert.equal(res.body, "hello /a?b=1");
    assert.equal(res.headers["x-upstream"], "site");
    assert.ok(session.bytes > 0);
    assert.deepEqual(session.blocks, []);
    await session.close();
  });

  it("refuses a loopback port that is not allowlisted with 403, before connecting", async () => {
    const session = await proxy.openSession();
    const before = connections.length;
    const target = `http://127.0.0.1:${canary.port}/steal`;
    const res = await viaProxy(session.proxyUrl, target);
    assert.equal(res.status, 403);
    assert.equal(session.blocks.length, 1);
    assert.equal(session.blocks[0]?.code, "private_address");
    assert.equal(session.blockFor(target)?.target, target);
    assert.equal(connections.length, before, "no connection attempted");
    assert.equal(canary.connections, 0);
    await session.close();
  });

  it("refuses CONNECT to a forbidden host with 403 and tunnels to an allowed one", async () => {
    const session = await proxy.openSession();
    assert.equal((await connectVia(session.proxyUrl, `127.0.0.1:${canary.port}`)).status, 403);
    assert.equal(session.blocks[0]?.kind, "connect");
    assert.equal(session.blockFor(`https://127.0.0.1:${canary.port}/x`)?.code, "private_address");

    const tunnel = await connectVia(session.proxyUrl, `127.0.0.1:${sitePort}`);
    assert.equal(tunnel.status, 200);
    const socket = tunnel.socket;
    assert.ok(socket);
    const reply = await new Promise<string>((resolve) => {
      let text = "";
      socket.on("data", (chunk: Buffer) => {
        text += chunk.toString();
      });
      socket.on("close", () => resolve(text));
      socket.write(`GET /tunnelled HTTP/1.1\r\nHost: 127.0.0.1:${sitePort}\r\nConnection: close\r\n\r\n`);
    });
    assert.match(reply, /^HTTP\/1\.1 200/);
    assert.match(reply, /hello \/tunnelled/);
    assert.equal(canary.connections, 0);
    await session.close();
  });

  it("refuses ports outside 80, 443 and 1024+ even on public hosts, without resolving", async () => {
    let lookups = 0;
    const publicName: ResolveHost = async () => {
      lookups++;
      return ["93.184.215.14"];
    };
    const strict = proxyFor({ resolveHost: publicName });
    const session = await strict.openSession();
    assert.equal((await connectVia(session.proxyUrl, "news.example:22")).status, 403);
    assert.equal((await viaProxy(session.proxyUrl, "http://news.example:25/")).status, 403);
    assert.deepEqual(
      session.blocks.map((b) => b.code),
      ["port_not_allowed", "port_not_allowed"],
    );
    assert.equal(lookups, 0);
    await strict.close();
  });

  it("refuses a name that resolves to the metadata address, before any connection", async () => {
    const names: ResolveHost = async (host) => {
      if (host === "metadata.test") return ["169.254.169.254"];
      if (host === "mapped.test") return ["::ffff:169.254.169.254"];
      if (host === "half.test") return ["127.0.0.1", "10.0.0.1"];
      throw notFound(host);
    };
    const guarded = proxyFor({ resolveHost: names });
    const session = await guarded.openSession();
    const before = connections.length;
    assert.equal((await viaProxy(session.proxyUrl, "http://metadata.test/latest/meta-data/")).status, 403);
    assert.equal((await connectVia(session.proxyUrl, "mapped.test:443")).status, 403);
    assert.equal((await viaProxy(session.proxyUrl, `http://half.test:${sitePort}/`)).status, 403);
    assert.equal((await viaProxy(session.proxyUrl, "http://169.254.169.254/")).status, 403);
    assert.equal((await viaProxy(session.proxyUrl, "http://0xa9fea9fe/")).status, 403);
    assert.equal((await viaProxy(session.proxyUrl, "http://localhost/")).status, 403);
    assert.equal(connections.length, before, "nothing was connected to");
    assert.deepEqual(
      session.blocks.map((b) => `${b.kind} ${b.host}:${b.port} ${b.code}`),
      [
        "http metadata.test:80 private_address",
        "connect mapped.test:443 private_address",
        `http half.test:${sitePort} private_address`,
        "http 169.254.169.254:80 private_address",
        "http 169.254.169.254:80 private_address",
        "http localhost:80 private_address",
      ],
    );
    await guarded.close();
  });

  it("connects only to the address it checked (DNS rebinding)", async () => {
    // First answer: the allowlisted address. Every later answer: 127.0.0.2, where the canary
    // listens on the same port. A proxy that looked the name up again to connect would reach it.
    let lookups = 0;
    const rebinding: ResolveHost = async (host) => {
      if (host !== "rebind.test") throw notFound(host);
      lookups++;
      return lookups === 1 ? ["127.0.0.1"] : ["127.0.0.2"];
    };
    const guarded = proxyFor({ resolveHost: rebinding });
    const session = await guarded.openSession();
    const target = `http://rebind.test:${sitePort}/rebound`;
    for (let i = 0; i < 3; i++) assert.equal((await viaProxy(session.proxyUrl, target)).status, 200);
    assert.equal((await connectVia(session.proxyUrl, `rebind.test:${sitePort}`)).status, 200);
    assert.equal(lookups, 1, "one lookup for the whole session");
    assert.ok(siteRequests.includes(`GET rebind.test:${sitePort} /rebound`));

    // A new session (a new capture) asks again, gets the forbidden answer, and refuses.
    const next = await guarded.openSession();
    assert.equal((await viaProxy(next.proxyUrl, target)).status, 403);
    assert.equal(lookups, 2);
    assert.equal(rebindCanary.connections, 0);
    assert.ok(!connections.some((c) => c.startsWith("127.0.0.2")));
    await guarded.close();
  });

  it("still finds a refused navigation after a flood of refused embeds", async () => {
    const flooded = proxyFor({});
    const session = await flooded.openSession();
    for (let batch = 0; batch < 11; batch++) {
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          viaProxy(session.proxyUrl, `http://127.0.0.1:${canary.port}/embed-${batch}-${i}`),
        ),
      );
    }
    assert.equal(session.blocks.length, 500, "the log is bounded");
    assert.equal((await connectVia(session.proxyUrl, "127.0.0.1:1024")).status, 403);
    assert.equal(session.blockFor("https://127.0.0.1:1024/landing")?.kind, "connect");
    assert.equal(canary.connections, 0);
    await flooded.close();
  });

  it("reports unresolvable and unreachable hosts as failures, not blocks", async () => {
    const closed = await startCanary("127.0.0.1");
    const closedPort = closed.port;
    await closed.close();
    const guarded = proxyFor({ allow: "127.0.0.1" });
    const session = await guarded.openSession();
    const noHost = await viaProxy(session.proxyUrl, "http://nowhere.test/");
    assert.equal(noHost.status, 502);
    assert.equal(session.failureFor("http://nowhere.test/")?.code, "dns_failure");
    assert.equal((await connectVia(session.proxyUrl, `127.0.0.1:${closedPort}`)).status, 502);
    assert.equal(session.failureFor(`https://127.0.0.1:${closedPort}/`)?.code, "connection_failed");
    assert.deepEqual(session.blocks, []);
    await guarded.close();
  });

  it("closes a connection that goes idle", async () => {
    const guarded = proxyFor({ idleMs: 300 });
    const session = await guarded.openSession();
    const started = performance.now();
    const res = await viaProxy(session.proxyUrl, `http://127.0.0.1:${sitePort}/hang`);
    assert.equal(res.status, 504);
    assert.ok(performance.now() - started < 3_000);
    assert.equal(session.failureFor(`http://127.0.0.1:${sitePort}/hang`)?.code, "timeout");
    await guarded.close();
  });

  it("cuts a session off once it goes over its byte budget", async () => {
    const guarded = proxyFor({ maxBytes: 64 * 1024 });
    const session = await guarded.openSession();
    await assert.rejects(viaProxy(session.proxyUrl, `http://127.0.0.1:${sitePort}/big`));
    assert.equal(session.exceeded, true);
    assert.ok(session.bytes > 64 * 1024);
    // Another session has a budget of its own.
    const other = await guarded.openSession();
    assert.equal((await viaProxy(other.proxyUrl, `http://127.0.0.1:${sitePort}/small`)).status, 200);
    assert.equal(other.exceeded, false);
    await guarded.close();
  });

  it("proxies plain ws: upgrades through the guard", async () => {
    const guarded = proxyFor({});
    const session = await guarded.openSession();
    const upgrade = (target: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = netConnect(Number(new URL(session.proxyUrl).port), "127.0.0.1");
        let text = "";
        socket.on("data", (chunk: Buffer) => {
          text += chunk.toString();
        });
        socket.on("close", () => resolve(text));
        socket.on("error", reject);
        socket.write(
          `GET ${target} HTTP/1.1\r\nHost: ${new URL(target).host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
        );
      });
    assert.match(await upgrade(`ws://127.0.0.1:${sitePort}/socket`), /^HTTP\/1\.1 101[\s\S]*hello-ws$/);
    assert.ok(siteRequests.includes(`UPGRADE 127.0.0.1:${sitePort} /socket`));
    assert.match(await upgrade(`ws://127.0.0.1:${canary.port}/socket`), /^HTTP\/1\.1 403/);
    assert.equal(session.blocks[0]?.kind, "upgrade");
    assert.equal(canary.connections, 0);
    await guarded.close();
  });

  it("refuses everything in a deny-all session, origin-form requests, and loops into itself", async () => {
    const guarded = proxyFor({ allow: "127.0.0.1" }); // every loopback port allowed…
    const fallback = await guarded.openSession({ denyAll: true });
    assert.equal((await viaProxy(fallback.proxyUrl, `http://127.0.0.1:${sitePort}/`)).status, 403);
    assert.equal(fallback.blocks[0]?.code, "outside_capture");

    const session = await guarded.openSession();
    const ownPort = new URL(session.proxyUrl).port;
    // …but not the proxy's own.
    assert.equal((await connectVia(session.proxyUrl, `127.0.0.1:${ownPort}`)).status, 403);
    assert.equal(session.blocks[0]?.code, "proxy_loop");
    const originForm = await new Promise<number>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port: ownPort, path: "/", agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end();
    });
    assert.equal(originForm, 400);
    assert.ok(guarded.recentBlocks.length >= 3);
    await guarded.close();
  });
});
