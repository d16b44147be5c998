/**
 * The read side of the blob store (`BlobReader`: presigned links and reads) without the S3
 * client: requests signed with the SDK's own `SignatureV4`, sent with `fetch`. The API function
 * only ever reads, and `@aws-sdk/client-s3` with its endpoint rules, XML protocol and checksum
 * middleware is a fifth of its bundle and of its cold start; this is a few hundred bytes.
 *
 * Presigned URLs are the ones `@aws-sdk/s3-request-presigner` makes for a `GetObjectCommand`
 * (a test compares them byte for byte): virtual-hosted-style on AWS, path-style on a custom
 * endpoint (the embedded S3 server), `UNSIGNED-PAYLOAD`, the response headers as signed query
 * parameters. A read fetches such a link too, so there is one way of signing to get right. Reads
 * retry throttling, server errors and network failures with jittered backoff, as the SDK's
 * standard retry mode does.
 *
 * Limits: the standard `amazonaws.com` partition only (no China or GovCloud endpoint names, no
 * FIPS or dual-stack), and bucket names valid as DNS labels (CDK's generated names are).
 */
import { createHash, createHmac, type Hash, type Hmac } from "node:crypto";
import { fromEnv } from "@aws-sdk/credential-provider-env";
import { SignatureV4 } from "@smithy/signature-v4";
import type {
  AwsCredentialIdentity,
  AwsCredentialIdentityProvider,
  HttpRequest,
  SourceData,
} from "@smithy/types";
import type { ArtifactRef } from "../domain/model.ts";
import type { BlobReader } from "../ports.ts";

const UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";
const MAX_ATTEMPTS = 5;
const ATTEMPT_TIMEOUT_MS = 15_000;
const RETRY_BASE_MS = 100;
const RETRY_MAX_MS = 5_000;
/** Reads go through a presigned link too, valid just long enough for one attempt. */
const READ_LINK_TTL_SECONDS = 60;

export interface S3BlobReaderOptions {
  bucketName: string;
  region: string;
  /** An S3-compatible server (path-style URLs); unset for AWS. */
  endpoint?: string;
  /** @default the Lambda environment's credentials (`AWS_ACCESS_KEY_ID`, …) */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** For tests: the signing clock. */
  now?: () => Date;
}

/** SHA-256 and HMAC-SHA-256 in the shape `SignatureV4` takes (`new Sha256(secret?)`). */
export class NodeSha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash("sha256") : createHmac("sha256", bytesOf(secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytesOf(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

function bytesOf(data: SourceData): string | Uint8Array {
  if (typeof data === "string" || data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** An S3 error answer, shaped like the SDK's (`name`, `$metadata.httpStatusCode`). */
export class S3ReadError extends Error {
  readonly $metadata: { httpStatusCode: number };
  constructor(name: string, status: number, key: string) {
    super(`S3 answered ${status} ${name} for ${key}`);
    this.name = name;
    this.$metadata = { httpStatusCode: status };
  }
}

/** RFC 6266 header value: an ASCII fallback plus the UTF-8 form. */
export function contentDisposition(disposition: "inline" | "attachment", fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]|["\\]/g, "_");
  return `${disposition}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}

export function createS3BlobReader(options: S3BlobReaderOptions): BlobReader {
  const { bucketName, region } = options;
  const now = options.now ?? (() => new Date());
  const signer = new SignatureV4({
    service: "s3",
    region,
    credentials: options.credentials ?? fromEnv(),
    sha256: NodeSha256,
    // S3 signs the path as sent, without the second encoding other services use.
    uriEscapePath: false,
    applyChecksum: false,
  });
  const endpoint = options.endpoint ? new URL(options.endpoint) : undefined;

  /** The request for one object, before signing. */
  function objectRequest(key: string, query: Record<string, string>): HttpRequest {
    const encodedKey = key.split("/").map(encodeURIComponent).join("/");
    const base = endpoint
      ? {
          protocol: endpoint.protocol,
          hostname: endpoint.hostname,
          port: endpoint.port === "" ? undefined : Number(endpoint.port),
          path: `${endpoint.pathname.replace(/\/$/, "")}/${bucketName}/${encodedKey}`,
        }
      : {
          protocol: "https:",
          hostname: `${bucketName}.s3.${region}.amazonaws.com`,
          port: undefined,
          path: `/${encodedKey}`,
        };
    const host = base.port === undefined ? base.hostname : `${base.hostname}:${base.port}`;
    return { method: "GET", ...base, query, headers: { host, "X-Amz-Content-Sha256": UNSIGNED_PAYLOAD } };
  }

  /** A presigned GET of `key` (the only signing this module does: reads use it too). */
  async function presignedGet(
    key: string,
    query: Record<string, string>,
    expiresIn: number,
  ): Promise<string> {
    // The SDK's GetObject asks for the stored checksum too; kept so that the links are the same.
    const request = objectRequest(key, { ...query, "x-amz-checksum-mode": "ENABLED", "x-id": "GetObject" });
    const signed = await signer.presign(request, {
      expiresIn,
      signingDate: now(),
      unsignableHeaders: new Set(["content-type"]),
    });
    return formatUrl(signed);
  }

  return {
    async presignGet(ref: ArtifactRef, presign) {
      return presignedGet(
        ref.key,
        {
          "response-content-disposition": contentDisposition(presign.disposition, ref.fileName),
          "response-content-type": ref.contentType,
        },
        presign.expiresInSeconds,
      );
    },

    async getBlob(ref: ArtifactRef) {
      for (let attempt = 1; ; attempt++) {
        const url = await presignedGet(ref.key, {}, READ_LINK_TTL_SECONDS);
        let response: Response | undefined;
        let failure: unknown;
        try {
          response = await fetch(url, { signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS) });
          if (response.ok) return new Uint8Array(await response.arrayBuffer());
          failure = new S3ReadError(await errorCode(response), response.status, ref.key);
        } catch (err) {
          failure = err; // network failure, attempt timeout, or the body cut off
          response = undefined;
        }
        if (!isRetryable(response) || attempt >= MAX_ATTEMPTS) throw failure;
        const cap = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (attempt - 1));
        await new Promise((resolve) => setTimeout(resolve, Math.random() * cap));
      }
    },
  };
}

/** A network failure (no response), throttling or a server error: worth another attempt. */
function isRetryable(response: Response | undefined): boolean {
  return response === undefined || response.status === 429 || response.status >= 500;
}

/** The `<Code>` of an S3 XML error body (`NoSuchKey`, `AccessDenied`, …). */
async function errorCode(response: Response): Promise<string> {
  const body = await response.text().catch(() => "");
  return /<Code>([^<]+)<\/Code>/.exec(body)?.[1] ?? (response.status === 404 ? "NotFound" : "S3Error");
}

/** The URL of a signed request, its query sorted and encoded as the SDK's presigner does. */
function formatUrl(request: HttpRequest): string {
  const port = request.port === undefined ? "" : `:${request.port}`;
  const query = Object.entries(request.query ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .flatMap(([name, value]) =>
      (Array.isArray(value) ? value : [value]).map((v) =>
        v === null || v === undefined ? escapeUri(name) : `${escapeUri(name)}=${escapeUri(v)}`,
      ),
    )
    .join("&");
  return `${request.protocol}//${request.hostname}${port}${request.path}${query ? `?${query}` : ""}`;
}

/** RFC 3986 escaping, as `@smithy/util-uri-escape` does it. */
function escapeUri(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}
