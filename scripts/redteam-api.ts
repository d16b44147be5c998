/**
 * The API's attacks for `npm run redteam` (issue 12, "Requests a browser on the same machine
 * could forge"): what a hostile web page the user opens, or a hostile page on another port of
 * 127.0.0.1, can make the browser send to the local runner, and requests with forged cursors and
 * Host headers. Each is sent as such a page would send it (form encodings, `text/plain`, no API
 * key where a browser could not add one) and counts as refused only when the runner refuses it
 * and nothing was queued or injected.
 */
import { request } from "node:http";
import type { Attack, AttackOutcome, RedteamContext } from "./redteam-types.ts";

/** What the runner answers, read whole. */
interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * One request through node:http, which (unlike fetch) sends the `Host`, `Origin`, `Cookie` and
 * `Sec-Fetch-*` headers it is given, as a browser would set them. A connection the server drops
 * before answering is tried again: the attack before these opens 300 connections, and the server
 * may still count some of them against this client for a moment.
 */
async function send(
  ctx: RedteamContext,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<Answer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await sendOnce(ctx, options);
    } catch (err) {
      if (attempt >= 5) throw err;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}

function sendOnce(
  ctx: RedteamContext,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<Answer> {
  const base = new URL(ctx.runner.url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: base.hostname,
        port: base.port,
        agent: false,
        method: options.method ?? "GET",
        path: options.path,
        headers: {
          ...(options.body !== undefined
            ? { "content-length": String(Buffer.byteLength(options.body)) }
            : {}),
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

/** The runner's captures, counted through the API: a refused attack queues none. */
async function captureCount(ctx: RedteamContext): Promise<number> {
  const answer = await send(ctx, { path: "/v1/captures?limit=100", headers: { "x-api-key": ctx.apiKey } });
  return (JSON.parse(answer.body) as { items: unknown[] }).items.length;
}

function codeOf(answer: Answer): string {
  const json = /"code":"([a-z_]+)"/.exec(answer.body)?.[1];
  const html = /<code>([a-z_]+)<\/code>/.exec(answer.body)?.[1];
  return json ?? html ?? "";
}

/** Refused when the answer has `status` and the archive holds no more captures than before. */
async function refusedWithoutCapture(
  ctx: RedteamContext,
  status: number,
  attack: () => Promise<Answer>,
): Promise<AttackOutcome> {
  const before = await captureCount(ctx);
  const answer = await attack();
  const after = await captureCount(ctx);
  return {
    refused: answer.status === status && after === before,
    detail:
      `${answer.status} ${codeOf(answer)}${after === before ? "" : `, ${after - before} capture(s) queued`}`.trim(),
  };
}

const FORM = "application/x-www-form-urlencoded";

function victimUrl(ctx: RedteamContext): string {
  return `${ctx.capturedUrl}?planted=${Date.now()}`;
}

/** A cursor that decodes (base64url JSON, as the repository's are) but that no list issued. */
const FORGED_CURSOR = Buffer.from(JSON.stringify({ pk: "URL#forged", sk: "CAPTURE#forged" })).toString(
  "base64url",
);

export const API_ATTACKS: Attack[] = [
  {
    area: "api",
    name: "CSRF: another site's form POSTed to /ui/captures",
    run: (ctx) =>
      refusedWithoutCapture(ctx, 403, () =>
        send(ctx, {
          method: "POST",
          path: "/ui/captures",
          // Even with the key in the form (as if the attacker knew it), the form is not ours.
          body: new URLSearchParams({ url: victimUrl(ctx), apiKey: ctx.apiKey }).toString(),
          headers: {
            "content-type": FORM,
            host: new URL(ctx.runner.url).host,
            origin: "https://attacker.example",
            "sec-fetch-site": "cross-site",
          },
        }),
      ),
  },
  {
    area: "api",
    name: "CSRF: a page on another port of 127.0.0.1 plants a cookie and posts its nonce",
    run: (ctx) => {
      const nonce = "A".repeat(43);
      return refusedWithoutCapture(ctx, 403, () =>
        send(ctx, {
          method: "POST",
          path: "/ui/captures",
          body: new URLSearchParams({ url: victimUrl(ctx), apiKey: ctx.apiKey, csrf: nonce }).toString(),
          // An old browser that sends neither Origin nor Sec-Fetch-Site: only the token can tell.
          headers: { "content-type": FORM, cookie: `palimpsest_csrf=${nonce}` },
        }),
      );
    },
  },
  {
    area: "api",
    name: "text/plain JSON to POST /v1/captures (a no-cors fetch)",
    run: (ctx) =>
      refusedWithoutCapture(ctx, 415, () =>
        send(ctx, {
          method: "POST",
          path: "/v1/captures",
          body: JSON.stringify({ url: victimUrl(ctx) }),
          // The key too, to show the media type alone is refused; a browser could not add it.
          headers: { "content-type": "text/plain;charset=UTF-8", "x-api-key": ctx.apiKey },
        }),
      ),
  },
  {
    area: "api",
    name: "form-encoded body to POST /v1/sources",
    async run(ctx) {
      const answer = await send(ctx, {
        method: "POST",
        path: "/v1/sources",
        body: `{"url":"${ctx.capturedUrl}","ignored":"=x"}`,
        headers: { "content-type": FORM, "x-api-key": ctx.apiKey },
      });
      return { refused: answer.status === 415, detail: `${answer.status} ${codeOf(answer)}` };
    },
  },
  {
    area: "api",
    name: "POST /_local/sweep without the API key",
    async run(ctx) {
      const answer = await send(ctx, {
        method: "POST",
        path: "/_local/sweep",
        body: '{"now": "2099-01-01T00:00:00Z"}',
        headers: { "content-type": "application/json" },
      });
      return { refused: answer.status === 401, detail: `${answer.status} ${codeOf(answer)}` };
    },
  },
  {
    area: "api",
    name: "POST /_local/sweep with a text/plain body",
    async run(ctx) {
      const answer = await send(ctx, {
        method: "POST",
        path: "/_local/sweep",
        body: '{"now": "2099-01-01T00:00:00Z"}',
        headers: { "content-type": "text/plain", "x-api-key": ctx.apiKey },
      });
      return { refused: answer.status === 415, detail: `${answer.status} ${codeOf(answer)}` };
    },
  },
  {
    area: "api",
    name: "forged pagination cursor on the JSON lists and the home page",
    async run(ctx) {
      const paths = [
        `/v1/edits?cursor=${FORGED_CURSOR}`,
        `/v1/captures?cursor=${FORGED_CURSOR}`,
        `/v1/sources?cursor=${FORGED_CURSOR}`,
        `/?captures=${FORGED_CURSOR}`,
      ];
      const answers = await Promise.all(
        paths.map((path) => send(ctx, { path, headers: { "x-api-key": ctx.apiKey } })),
      );
      const statuses = answers.map((a) => `${a.status} ${codeOf(a)}`);
      return {
        refused: answers.every((a) => a.status === 400 && codeOf(a) === "invalid_cursor"),
        detail: statuses.join(", "),
      };
    },
  },
  {
    area: "api",
    name: "Host header injected into feed and Memento links",
    async run(ctx) {
      const evil = {
        host: "attacker.example",
        "x-forwarded-host": "attacker.example",
        "x-forwarded-proto": "https",
      };
      const [feed, timegate] = await Promise.all([
        send(ctx, { path: "/v1/edits.atom", headers: evil }),
        send(ctx, { path: `/timegate/${ctx.capturedUrl}`, headers: evil }),
      ]);
      const leaked = [
        feed.body,
        String(timegate.headers.location ?? ""),
        String(timegate.headers.link ?? ""),
      ].some((text) => text.includes("attacker.example"));
      return {
        refused: feed.status === 200 && timegate.status === 302 && !leaked,
        detail: `feed ${feed.status}, TimeGate ${timegate.status} to ${String(timegate.headers.location ?? "")}`,
      };
    },
  },
];
