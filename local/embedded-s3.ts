/**
 * An S3-compatible server in this process, as strict as S3 where the archive's evidence depends
 * on it. s3rver stores the objects but accepts anonymous writes and never checks presigned
 * links, so it listens on a private loopback port and a front on the public port decides first:
 * - every request must carry a valid SigV4 signature (header or presigned query) by the runner's
 *   key (`sigv4-verifier.ts`), and a hex `x-amz-content-sha256` must match the body;
 * - objects under `blobs/` are content-addressed evidence: created once (`If-None-Match: *`, the
 *   key must be the body's SHA-256), never overwritten or deleted, whoever signs;
 * - browser-form and multi-object POSTs are refused (the archive sends none);
 * - nothing it serves runs as active content at the storage origin: `Content-Security-Policy:
 *   sandbox` and `nosniff` on every answer, so even an archived page's `raw` HTML opened `inline`
 *   executes nothing here (and editing a link's `response-content-disposition` breaks its signature);
 * - CORS as the archive bucket's rule on AWS: reads (GET, HEAD, with `Range`) from the replay
 *   origin only, which fetches the WACZ it replays from its presigned link; no other origin's page
 *   may read an answer, and preflights for anything else are refused as S3 refuses them;
 * - a suffix range (`Range: bytes=-N`, the last N bytes, which ReplayWeb.page asks for to read a
 *   WACZ's zip directory) is answered as S3 answers it; s3rver would serve the first N bytes.
 *
 * The cost is one loopback hop, a body buffer and a hash per PUT: measured side by side against
 * s3rver alone by `npm run bench -- --only s3-front` (bench/s3-front.ts), figures in BENCHMARKS.md
 * ("Embedded S3 front (npm start): on vs off").
 */
import { createHash } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { AwsCredentialIdentity } from "@smithy/types";
import S3rver, { type S3rverContext } from "s3rver";
import { createSigV4Verifier, SignatureRefusedError } from "./sigv4-verifier.ts";

/** A running embedded S3: its public (verifying) endpoint. */
export interface EmbeddedS3 {
  endpoint: string;
  close(): Promise<void>;
}

/** Keys under this prefix are write-once evidence. */
const EVIDENCE_PREFIX = "blobs/";
/** Request bodies larger than this are refused (the biggest artifact is a full-page screenshot). */
const MAX_BODY_BYTES = 256 * 1024 * 1024;
/** Query parameters that authenticate a presigned link; s3rver never sees them. */
const SIGNATURE_PARAMS =
  /^X-Amz-(Algorithm|Credential|Date|Expires|SignedHeaders|Signature|Security-Token)$/i;
/** Headers the front applies itself from a verified link, rather than trusting s3rver's version. */
const RESPONSE_OVERRIDES: Record<string, string> = {
  "response-content-type": "content-type",
  "response-content-disposition": "content-disposition",
  "response-content-language": "content-language",
  "response-content-encoding": "content-encoding",
  "response-cache-control": "cache-control",
  "response-expires": "expires",
};
const SAFE_HEADERS = {
  "content-security-policy": "sandbox",
  "x-content-type-options": "nosniff",
};
/** What a replay may read of an answer besides the CORS-safelisted headers (ranges above all). */
const CORS_EXPOSED_HEADERS = "Content-Range, Content-Length, Accept-Ranges, ETag, Content-Disposition";
/** The only request header a cross-origin read may add (S3 rule's AllowedHeaders). */
const CORS_ALLOWED_HEADERS = new Set(["range"]);

/** Starts s3rver on a private loopback port and the verifying front on `port` (any free one by default). */
export async function startEmbeddedS3(options: {
  directory: string;
  bucketName: string;
  /** The only key requests may be signed with. */
  credentials: AwsCredentialIdentity;
  port?: number;
  /** For tests: the verifier's clock. */
  now?: () => Date;
  /**
   * Origins whose pages may read objects (GET and HEAD, with `Range`), as the archive bucket's
   * CORS rule allows its replay origin on AWS.
   * @default - none: no cross-origin read is allowed
   */
  corsAllowOrigins?: readonly string[];
}): Promise<EmbeddedS3> {
  const corsOrigins = new Set(options.corsAllowOrigins ?? []);
  await mkdir(options.directory, { recursive: true });
  const backend = new S3rver({
    address: "127.0.0.1",
    port: 0,
    directory: options.directory,
    silent: true,
    // Path-style only: the SDK is configured with forcePathStyle for this endpoint.
    vhostBuckets: false,
    configureBuckets: [{ name: options.bucketName }],
  });
  backend.middleware.unshift(refuseOverwrites);
  const backendAddress = (await backend.run()) as AddressInfo;
  const verifier = createSigV4Verifier({
    credentials: options.credentials,
    ...(options.now ? { now: options.now } : {}),
  });

  const front = createServer((req, res) => {
    const cors = corsHeaders(req, corsOrigins);
    handle(req, res, cors).catch((err: unknown) => {
      if (err instanceof SignatureRefusedError) return refuse(res, 403, err.code, err.message, cors);
      if (err instanceof BodyTooLargeError) return refuse(res, 400, "EntityTooLarge", err.message, cors);
      refuse(res, 500, "InternalError", "The embedded S3 front failed.", cors);
    });
  });

  async function handle(
    req: IncomingMessage,
    res: ServerResponse,
    cors: Record<string, string>,
  ): Promise<void> {
    const method = req.method ?? "GET";
    const url = req.url ?? "/";
    // CORS preflights are unauthenticated on S3 too, and change nothing: answered here, from the rule.
    if (method === "OPTIONS") return preflight(req, res, corsOrigins);
    const verified = await verifier.verify({ method, url, headers: req.headers });
    const key = objectKey(url, options.bucketName);
    // s3rver maps keys to file paths: `a/../blobs/…` would reach evidence under another name.
    if (key === undefined || key?.split("/").some((segment) => segment === "." || segment === ".."))
      return refuse(res, 400, "InvalidURI", "The object key is not accepted here.", cors);
    if (method === "POST") return refuse(res, 403, "AccessDenied", "POST requests are refused.", cors);
    if (key?.startsWith(EVIDENCE_PREFIX)) {
      if (method === "DELETE")
        return refuse(res, 403, "AccessDenied", "Evidence under blobs/ is never deleted.", cors);
      if (method === "PUT" && (req.headers["if-none-match"] !== "*" || req.headers["x-amz-copy-source"]))
        return refuse(
          res,
          403,
          "AccessDenied",
          "Evidence under blobs/ is written once, with If-None-Match: *.",
          cors,
        );
    }
    let body: Buffer | undefined;
    if (method === "PUT") {
      const read = await readBody(req);
      body = read.body;
      const digest = read.sha256;
      if (/^[0-9a-f]{64}$/.test(verified.payloadHash) && verified.payloadHash !== digest)
        return refuse(
          res,
          400,
          "XAmzContentSHA256Mismatch",
          "The body does not match x-amz-content-sha256.",
          cors,
        );
      if (verified.payloadHash.startsWith("STREAMING-"))
        return refuse(res, 400, "NotImplemented", "Chunked payloads are not supported.", cors);
      if (key?.startsWith(EVIDENCE_PREFIX) && key.slice(key.lastIndexOf("/") + 1) !== digest)
        return refuse(res, 403, "AccessDenied", "A blob's key must be the SHA-256 of its bytes.", cors);
    }
    const overrides = new Map<string, string>();
    for (const [param, header] of Object.entries(RESPONSE_OVERRIDES)) {
      const value = verified.query.get(param)?.[0];
      if (value !== undefined) overrides.set(header, value);
    }
    if (method === "GET") await resolveSuffixRange(req, url);
    return forward(req, res, method, url, body, overrides, cors);
  }

  /** Sends the request on to s3rver without its signature, and its answer back with safe headers. */
  function forward(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    url: string,
    body: Buffer | undefined,
    overrides: Map<string, string>,
    cors: Record<string, string>,
  ): Promise<void> {
    const q = url.indexOf("?");
    const params =
      q < 0
        ? []
        : url
            .slice(q + 1)
            .split("&")
            .filter((p) => {
              const name = decodeURIComponent(p.split("=")[0] ?? "");
              return p !== "" && !SIGNATURE_PARAMS.test(name) && !(name.toLowerCase() in RESPONSE_OVERRIDES);
            });
    const path = (q < 0 ? url : url.slice(0, q)) + (params.length > 0 ? `?${params.join("&")}` : "");
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined || name === "authorization" || name === "x-amz-security-token") continue;
      headers[name] = value;
    }
    headers.host = `127.0.0.1:${backendAddress.port}`;
    if (body) headers["content-length"] = String(body.length);
    return new Promise((resolve, reject) => {
      const upstream = httpRequest(
        { host: "127.0.0.1", port: backendAddress.port, method, path, headers },
        (answer) => {
          const out: Record<string, string | string[]> = {};
          for (const [name, value] of Object.entries(answer.headers))
            if (value !== undefined && !name.startsWith("access-control-")) out[name] = value;
          if ((answer.statusCode ?? 500) < 300) for (const [name, value] of overrides) out[name] = value;
          Object.assign(out, SAFE_HEADERS, cors);
          res.writeHead(answer.statusCode ?? 502, out);
          answer.pipe(res);
          answer.on("end", resolve);
          answer.on("error", reject);
        },
      );
      upstream.on("error", reject);
      if (body) upstream.end(body);
      else req.pipe(upstream);
    });
  }

  /**
   * Rewrites `Range: bytes=-N` to the absolute range of the object's last N bytes, which s3rver
   * understands, after asking s3rver the object's size. Anything else is left as it is.
   */
  async function resolveSuffixRange(req: IncomingMessage, url: string): Promise<void> {
    const suffix = /^bytes=-(\d+)$/.exec(req.headers.range ?? "");
    if (!suffix) return;
    const size = await new Promise<number | undefined>((resolve) => {
      const head = httpRequest(
        { host: "127.0.0.1", port: backendAddress.port, method: "HEAD", path: url.split("?")[0] },
        (answer) => {
          answer.resume();
          const length = Number(answer.headers["content-length"]);
          resolve(answer.statusCode === 200 && Number.isFinite(length) ? length : undefined);
        },
      );
      head.on("error", () => resolve(undefined));
      head.end();
    });
    // Unknown (no such key): s3rver answers the GET itself, with the error S3 would give.
    if (size === undefined || size === 0) return;
    const wanted = Math.min(Number(suffix[1]), size);
    req.headers.range = `bytes=${size - wanted}-${size - 1}`;
  }

  await new Promise<void>((done) => front.listen(options.port ?? 0, "127.0.0.1", done));
  const { port } = front.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    async close() {
      await new Promise<void>((done) => {
        front.close(() => done());
        front.closeAllConnections();
      });
      await backend.close();
    },
  };
}

class BodyTooLargeError extends Error {}

/** The whole body and its SHA-256, hashed as it arrives rather than after. */
async function readBody(req: IncomingMessage): Promise<{ body: Buffer; sha256: string }> {
  const chunks: Buffer[] = [];
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLargeError("The body is larger than the front accepts.");
    chunks.push(chunk as Buffer);
    hash.update(chunk as Buffer);
  }
  return { body: Buffer.concat(chunks, size), sha256: hash.digest("hex") };
}

/**
 * The object key of a path-style request to `bucket`, decoded as s3rver will see it (so
 * `%62lobs/x` cannot slip past the blobs/ rule); null for bucket-level requests, undefined when
 * the path is not valid percent-encoding.
 */
function objectKey(url: string, bucket: string): string | null | undefined {
  const path = url.split("?")[0] ?? "/";
  const [, first, ...rest] = path.split("/");
  try {
    if (!first || decodeURIComponent(first) !== bucket || rest.length === 0) return null;
    return rest.map((segment) => decodeURIComponent(segment)).join("/");
  } catch {
    return undefined;
  }
}

/** The CORS headers of an answer to `req`: only for an allowed origin, as an S3 CORS rule adds them. */
function corsHeaders(req: IncomingMessage, allowed: ReadonlySet<string>): Record<string, string> {
  const origin = req.headers.origin;
  if (origin === undefined || !allowed.has(origin)) return {};
  return {
    "access-control-allow-origin": origin,
    "access-control-expose-headers": CORS_EXPOSED_HEADERS,
    vary: "Origin",
  };
}

/** A CORS preflight, answered from the rule (GET and HEAD, header `Range`) like S3 does. */
function preflight(req: IncomingMessage, res: ServerResponse, allowed: ReadonlySet<string>): void {
  const origin = req.headers.origin;
  const method = req.headers["access-control-request-method"];
  const asked = (req.headers["access-control-request-headers"] ?? "")
    .split(",")
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h !== "");
  if (
    origin === undefined ||
    !allowed.has(origin) ||
    (method !== "GET" && method !== "HEAD") ||
    asked.some((h) => !CORS_ALLOWED_HEADERS.has(h))
  ) {
    refuse(res, 403, "AccessForbidden", "CORSResponse: This CORS request is not allowed.");
    return;
  }
  res.writeHead(200, {
    "access-control-allow-origin": origin,
    "access-control-allow-methods": "GET, HEAD",
    ...(asked.length > 0 ? { "access-control-allow-headers": asked.join(", ") } : {}),
    "access-control-max-age": "3000",
    vary: "Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
    "content-length": "0",
    ...SAFE_HEADERS,
  });
  res.end();
}

function refuse(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  cors: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error>`;
  res.writeHead(status, {
    "content-type": "application/xml",
    "content-length": Buffer.byteLength(body),
    ...SAFE_HEADERS,
    ...cors,
  });
  res.end(body);
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * S3 refuses a PUT with `If-None-Match: *` when the key exists (412), which the blob store relies
 * on to store each blob once; s3rver 3.7.1 ignores the header and overwrites. Path-style only.
 */
async function refuseOverwrites(ctx: S3rverContext, next: () => Promise<void>): Promise<void> {
  const [, bucket, ...key] = ctx.path.split("/");
  if (
    ctx.method === "PUT" &&
    ctx.get("if-none-match") === "*" &&
    bucket &&
    key.length > 0 &&
    (await ctx.store.existsObject(decodeURIComponent(bucket), key.map(decodeURIComponent).join("/")))
  ) {
    ctx.status = 412;
    ctx.type = "application/xml";
    ctx.body =
      '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message><Condition>If-None-Match</Condition></Error>';
    return;
  }
  await next();
}
