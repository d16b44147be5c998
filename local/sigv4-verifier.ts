/**
 * Verifies AWS Signature Version 4 on requests to the embedded S3 server, as S3 does: the
 * signature is recomputed from the request as received (method, path as sent, query, the headers
 * it names) with `@smithy/signature-v4`, the signer the SDK itself uses, and compared in constant
 * time. Both forms are accepted: the `Authorization` header (the SDK's PUTs and reads) and the
 * presigned query (`X-Amz-Signature`, the links the API hands out), whose `X-Amz-Expires` is
 * enforced. Anything else (no signature, another key, an edited link, an old date) is refused.
 *
 * Non-goals: chunked (`STREAMING-*`) payloads and SigV4a; the project's clients send neither.
 */
import { timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentity, HttpRequest } from "@smithy/types";
import { NodeSha256 } from "../shared/adapters/s3-blob-reader.ts";

const ALGORITHM = "AWS4-HMAC-SHA256";
/** S3 refuses a header-signed request whose date is further than this from its clock. */
const MAX_SKEW_MS = 15 * 60_000;
/** S3's longest presigned link: seven days. */
const MAX_EXPIRES_SECONDS = 604_800;
const UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";

export type RefusalCode =
  | "AccessDenied"
  | "InvalidAccessKeyId"
  | "SignatureDoesNotMatch"
  | "RequestTimeTooSkewed"
  | "AuthorizationQueryParametersError";

/** Why a request was refused, as S3 names it (the `<Code>` of its XML error). */
export class SignatureRefusedError extends Error {
  readonly code: RefusalCode;
  constructor(code: RefusalCode, message: string) {
    super(message);
    this.name = "SignatureRefusedError";
    this.code = code;
  }
}

/** What a verified request was signed with. */
export interface VerifiedRequest {
  /** `header` (Authorization) or `query` (a presigned link). */
  form: "header" | "query";
  /** The signed payload hash (`x-amz-content-sha256`), or `UNSIGNED-PAYLOAD`. */
  payloadHash: string;
  /** The decoded query parameters, signature parameters included. */
  query: Map<string, string[]>;
}

export interface SigV4Verifier {
  /** Resolves when `request` carries a valid signature by the configured key; throws otherwise. */
  verify(request: IncomingRequest): Promise<VerifiedRequest>;
}

/** The parts of an HTTP request the signature covers. */
export interface IncomingRequest {
  method: string;
  /** The request target as received: raw path and query, still percent-encoded. */
  url: string;
  headers: IncomingHttpHeaders;
}

/** Decodes a raw query exactly (no `+` as space, which URLSearchParams would do). */
export function parseRawQuery(rawQuery: string): Map<string, string[]> {
  const query = new Map<string, string[]>();
  for (const part of rawQuery.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const name = safeDecode(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? "" : safeDecode(part.slice(eq + 1));
    const list = query.get(name) ?? [];
    list.push(value);
    query.set(name, list);
  }
  return query;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new SignatureRefusedError("SignatureDoesNotMatch", "The query is not valid percent-encoding.");
  }
}

/** `20261207T061500Z` → Date, or null. */
function parseAmzDate(text: string | undefined): Date | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text ?? "");
  if (!m) return null;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  const date = new Date(Date.UTC(y ?? 0, (mo ?? 1) - 1, d, h, mi, s));
  return Number.isNaN(date.getTime()) ? null : date;
}

interface Scope {
  accessKeyId: string;
  shortDate: string;
  region: string;
  service: string;
}

function parseCredential(credential: string | undefined): Scope {
  const parts = (credential ?? "").split("/");
  if (parts.length !== 5 || parts[4] !== "aws4_request")
    throw new SignatureRefusedError(
      "AuthorizationQueryParametersError",
      "The credential scope is malformed.",
    );
  const [accessKeyId = "", shortDate = "", region = "", service = ""] = parts;
  return { accessKeyId, shortDate, region, service };
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(",") : value;
}

function sameSignature(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** A verifier for requests signed with `credentials` (any region; service `s3`). */
export function createSigV4Verifier(options: {
  credentials: AwsCredentialIdentity;
  now?: () => Date;
}): SigV4Verifier {
  const { credentials } = options;
  const now = options.now ?? (() => new Date());
  // The session token is not part of the key: a client holding one signs it as a header/parameter,
  // which the recomputation keeps as received.
  const signer = new SignatureV4({
    service: "s3",
    region: "us-east-1",
    credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
    sha256: NodeSha256,
    uriEscapePath: false,
    applyChecksum: false,
  });

  function baseRequest(request: IncomingRequest, signedHeaders: string[]): HttpRequest {
    const q = request.url.indexOf("?");
    const path = q < 0 ? request.url : request.url.slice(0, q);
    const hostHeader = headerValue(request.headers, "host") ?? "";
    const [hostname = "", port] = hostHeader.split(":");
    const headers: Record<string, string> = {};
    for (const name of signedHeaders) {
      const value = headerValue(request.headers, name);
      if (value === undefined)
        throw new SignatureRefusedError("SignatureDoesNotMatch", `The signed header ${name} is missing.`);
      headers[name] = value;
    }
    return {
      method: request.method,
      protocol: "http:",
      hostname,
      ...(port ? { port: Number(port) } : {}),
      path,
      query: {},
      headers,
    };
  }

  function checkKey(scope: Scope): void {
    if (scope.accessKeyId !== credentials.accessKeyId)
      throw new SignatureRefusedError(
        "InvalidAccessKeyId",
        "The AWS Access Key Id you provided does not exist in our records.",
      );
    if (scope.service !== "s3")
      throw new SignatureRefusedError("SignatureDoesNotMatch", "The credential scope is not for s3.");
  }

  async function verifyHeader(request: IncomingRequest, authorization: string): Promise<VerifiedRequest> {
    const fields = new Map<string, string>();
    for (const part of authorization.slice(ALGORITHM.length).split(",")) {
      const eq = part.indexOf("=");
      if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
    }
    const scope = parseCredential(fields.get("Credential"));
    checkKey(scope);
    const signedHeaders = (fields.get("SignedHeaders") ?? "").split(";").filter(Boolean);
    const signature = fields.get("Signature") ?? "";
    if (!signedHeaders.includes("host") || !signature)
      throw new SignatureRefusedError("AccessDenied", "The Authorization header is malformed.");
    const date = parseAmzDate(headerValue(request.headers, "x-amz-date"));
    if (!date || !scope.shortDate || !headerValue(request.headers, "x-amz-date")?.startsWith(scope.shortDate))
      throw new SignatureRefusedError("AccessDenied", "The request has no valid x-amz-date.");
    if (Math.abs(now().getTime() - date.getTime()) > MAX_SKEW_MS)
      throw new SignatureRefusedError(
        "RequestTimeTooSkewed",
        "The difference between the request time and the current time is too large.",
      );
    const payloadHash = headerValue(request.headers, "x-amz-content-sha256");
    if (!payloadHash || !signedHeaders.includes("x-amz-content-sha256"))
      throw new SignatureRefusedError("AccessDenied", "x-amz-content-sha256 must be sent and signed.");
    const base = baseRequest(
      request,
      signedHeaders.filter((h) => h !== "x-amz-date"),
    );
    const query = parseRawQuery(
      request.url.includes("?") ? request.url.slice(request.url.indexOf("?") + 1) : "",
    );
    base.query = Object.fromEntries([...query].map(([k, v]) => [k, v.length === 1 ? (v[0] as string) : v]));
    const signed = await signer.sign(base, {
      signingDate: date,
      signingRegion: scope.region,
      signingService: scope.service,
      signableHeaders: new Set(signedHeaders),
    });
    const expected = /Signature=([0-9a-f]+)/.exec(String(signed.headers.authorization ?? ""))?.[1] ?? "";
    const expectedList = /SignedHeaders=([^,]+)/.exec(String(signed.headers.authorization ?? ""))?.[1];
    if (expectedList !== signedHeaders.join(";") || !sameSignature(expected, signature))
      throw new SignatureRefusedError(
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided.",
      );
    return { form: "header", payloadHash, query };
  }

  async function verifyQuery(
    request: IncomingRequest,
    query: Map<string, string[]>,
  ): Promise<VerifiedRequest> {
    const one = (name: string) => {
      const values = query.get(name);
      if (values?.length !== 1)
        throw new SignatureRefusedError("AuthorizationQueryParametersError", `${name} must appear once.`);
      return values[0] as string;
    };
    if (one("X-Amz-Algorithm") !== ALGORITHM)
      throw new SignatureRefusedError(
        "AuthorizationQueryParametersError",
        "Only AWS4-HMAC-SHA256 is supported.",
      );
    const scope = parseCredential(one("X-Amz-Credential"));
    checkKey(scope);
    const date = parseAmzDate(one("X-Amz-Date"));
    const expires = Number(one("X-Amz-Expires"));
    const signature = one("X-Amz-Signature");
    const signedHeaders = one("X-Amz-SignedHeaders").split(";").filter(Boolean);
    if (!date || !one("X-Amz-Date").startsWith(scope.shortDate))
      throw new SignatureRefusedError("AuthorizationQueryParametersError", "X-Amz-Date is malformed.");
    if (!Number.isInteger(expires) || expires < 1 || expires > MAX_EXPIRES_SECONDS)
      throw new SignatureRefusedError(
        "AuthorizationQueryParametersError",
        "X-Amz-Expires must be between 1 and 604800 seconds.",
      );
    const nowMs = now().getTime();
    if (date.getTime() - nowMs > MAX_SKEW_MS)
      throw new SignatureRefusedError("AccessDenied", "The request is signed in the future.");
    if (nowMs > date.getTime() + expires * 1000)
      throw new SignatureRefusedError("AccessDenied", "Request has expired");
    if (!signedHeaders.includes("host"))
      throw new SignatureRefusedError("AuthorizationQueryParametersError", "host must be signed.");

    const base = baseRequest(request, signedHeaders);
    const rest: Record<string, string | string[]> = {};
    for (const [name, values] of query) {
      // presign() adds these itself; the rest (response-*, the SDK's x-id…) is signed as received.
      if (/^X-Amz-(Algorithm|Credential|Date|Expires|SignedHeaders|Signature)$/.test(name)) continue;
      rest[name] = values.length === 1 ? (values[0] as string) : values;
    }
    base.query = rest;
    // A presigned S3 link always signs UNSIGNED-PAYLOAD; the hash is given to the signer as a
    // header it neither signs nor moves into the query.
    const payloadHash = UNSIGNED_PAYLOAD;
    const presigned = await signer.presign(
      { ...base, headers: { ...base.headers, "x-amz-content-sha256": payloadHash } },
      {
        signingDate: date,
        expiresIn: expires,
        signingRegion: scope.region,
        signingService: scope.service,
        signableHeaders: new Set(signedHeaders),
        unsignableHeaders: signedHeaders.includes("x-amz-content-sha256")
          ? undefined
          : new Set(["x-amz-content-sha256"]),
        unhoistableHeaders: new Set([
          "x-amz-content-sha256",
          ...signedHeaders.filter((h) => h.startsWith("x-amz-")),
        ]),
      },
    );
    const expected = String(presigned.query?.["X-Amz-Signature"] ?? "");
    if (
      presigned.query?.["X-Amz-SignedHeaders"] !== signedHeaders.join(";") ||
      !sameSignature(expected, signature)
    )
      throw new SignatureRefusedError(
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided.",
      );
    return { form: "query", payloadHash, query };
  }

  return {
    async verify(request) {
      const authorization = headerValue(request.headers, "authorization");
      const q = request.url.indexOf("?");
      const query = parseRawQuery(q < 0 ? "" : request.url.slice(q + 1));
      if (authorization?.startsWith(`${ALGORITHM} `)) return verifyHeader(request, authorization);
      if (authorization)
        throw new SignatureRefusedError("AccessDenied", "Only AWS4-HMAC-SHA256 signatures are accepted.");
      if (query.has("X-Amz-Signature")) return verifyQuery(request, query);
      throw new SignatureRefusedError("AccessDenied", "Anonymous requests are refused: sign the request.");
    },
  };
}
