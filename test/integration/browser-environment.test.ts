/**
 * The capture browser never holds the capturer's credentials: it is launched with a minimal
 * environment, so a page that took a renderer over (on Lambda they run without Chromium's sandbox)
 * finds no AWS keys in it. The capturer's process gets AWS credentials and another secret here;
 * the browser process's environment is read through /proc while it captures a page from the
 * fixture site on 127.0.0.1.
 *
 * Only the browser process: a renderer's or utility's /proc environ reads empty (Chromium's
 * children write their process title over the memory /proc shows), so a check of theirs could
 * never fail — it passed with the scrub removed, while this one fails. Their environment is the
 * browser's, which they inherit (Chromium starts them itself, from the browser process).
 * What they could read of the browser's parent, the capturer: scrub-environ.test.ts.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { after, before, describe, it } from "node:test";
import { browserEnvironment } from "../../shared/adapters/chromium/browser-launch.ts";
import { createChromiumPageCapturer } from "../../shared/adapters/chromium/page-capturer.ts";
import type { PageCapturer } from "../../shared/ports.ts";
import { testCaptureOptions } from "../support/capture-options.ts";
import { encodeSolidPng, type FixtureSite, startFixtureSite } from "../support/fixture-site.ts";
import { loopbackEgress, NO_DNS } from "../support/loopback-browser.ts";

const SECRETS = {
  AWS_ACCESS_KEY_ID: `AKIA${randomBytes(8).toString("hex").toUpperCase()}`,
  AWS_SECRET_ACCESS_KEY: randomBytes(30).toString("base64"),
  AWS_SESSION_TOKEN: randomBytes(60).toString("base64"),
  PALIMPSEST_TEST_API_KEY: randomBytes(16).toString("hex"),
};

/** One process of the browser, as /proc shows it while the page is captured. */
interface BrowserProcess {
  pid: number;
  type: string;
  env: string[];
}

let site: FixtureSite;
let capturer: PageCapturer;
const saved = new Map<string, string | undefined>();

before(async () => {
  for (const [name, value] of Object.entries(SECRETS)) {
    saved.set(name, process.env[name]);
    process.env[name] = value;
  }
  site = await startFixtureSite();
  capturer = createChromiumPageCapturer({ extraArgs: [NO_DNS], egress: loopbackEgress() });
});

after(async () => {
  await capturer?.close();
  await site?.close();
  for (const [name, value] of saved) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

/** Every process under this one (the browser, its zygotes, renderers and helpers), with its environment. */
function browserProcesses(): BrowserProcess[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // the process exited while we looked
    }
  }
  const descendants = new Set([process.pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, parent] of parents) {
      if (descendants.has(parent) && !descendants.has(pid)) {
        descendants.add(pid);
        grew = true;
      }
    }
  }
  descendants.delete(process.pid);
  const found: BrowserProcess[] = [];
  for (const pid of descendants) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      const env = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").filter(Boolean);
      found.push({ pid, type: /--type=([\w-]+)/.exec(cmdline)?.[1] ?? "browser", env });
    } catch {
      // the process exited while we looked
    }
  }
  return found;
}

describe("the capture browser's environment", () => {
  it("holds none of the capturer's credentials while it captures a page", async () => {
    let seen: BrowserProcess[] = [];
    // The page's image is answered once every process of the browser has been read: the page's
    // renderer is alive then.
    site.setRoute("/env-check.png", (_req, res: ServerResponse) => {
      seen = browserProcesses();
      const png = encodeSolidPng(8, 8, "3366cc");
      res.writeHead(200, { "content-type": "image/png", "content-length": String(png.length) });
      res.end(png);
    });
    site.setPage(
      "/env-article.html",
      '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Ferry timetable</title></head>' +
        '<body><article><h1>Ferry timetable changes</h1><img src="/env-check.png" alt="">' +
        "<p>The morning ferry leaves ten minutes earlier from Monday.</p></article></body></html>",
    );

    const capture = await capturer.capture(site.url("/env-article.html"), testCaptureOptions());

    assert.equal(capture.httpStatus, 200);
    assert.match(capture.renderedHtml, /Ferry timetable changes/);
    const types = seen.map((p) => p.type);
    assert.ok(types.includes("renderer"), `the page's renderer was alive: ${types.join(", ")}`);
    // What can be read: the browser's environment, which its children inherit (see the top).
    const readable = seen.filter((p) => p.env.length > 0);
    assert.deepEqual(
      readable.map((p) => p.type),
      ["browser"],
      "only the browser process's environment is readable here",
    );
    for (const { pid, type, env } of readable) {
      const names = env.map((entry) => entry.slice(0, entry.indexOf("=")));
      for (const [name, value] of Object.entries(SECRETS)) {
        assert.ok(!names.includes(name), `${type} ${pid} has ${name}`);
        assert.ok(!env.some((entry) => entry.includes(value)), `${type} ${pid} holds the value of ${name}`);
      }
      assert.deepEqual(
        names.filter((name) => name.startsWith("AWS_")),
        [],
        `${type} ${pid} has AWS variables`,
      );
    }
    // The environments were really read: the browser's own temp directory is in each.
    const browser = seen.find((p) => p.type === "browser");
    assert.ok(browser?.env.some((entry) => /^TMPDIR=.*palimpsest-chromium-/.test(entry)));
    assert.ok(browser?.env.includes("LANG=en_US.UTF-8"));
  });

  it("passes on only what Chromium needs, from any environment", () => {
    const env = browserEnvironment("/tmp/palimpsest-chromium-x", {
      HOME: "/home/reader",
      LD_LIBRARY_PATH: "/tmp/al2023/lib",
      FONTCONFIG_PATH: "/tmp/fonts",
      TZ: ":UTC",
      LANG: "de_DE.UTF-8",
      LC_ALL: "de_DE.UTF-8",
      PATH: "/usr/bin",
      ...SECRETS,
      AWS_REGION: "eu-west-1",
      AWS_LAMBDA_RUNTIME_API: "127.0.0.1:9001",
      API_KEY: "k",
      HTTPS_PROXY: "http://user:password@proxy.invalid:3128",
      DBUS_SESSION_BUS_ADDRESS: "unix:path=/run/user/0/bus",
      TMPDIR: "/tmp",
    });
    assert.deepEqual(env, {
      HOME: "/home/reader",
      LD_LIBRARY_PATH: "/tmp/al2023/lib",
      FONTCONFIG_PATH: "/tmp/fonts",
      TZ: ":UTC",
      LANG: "en_US.UTF-8",
      TMPDIR: "/tmp/palimpsest-chromium-x",
    });
  });
});
