/**
 * The evidence key's public half, for the API function (`GET /v1/signing-key`), without the KMS
 * client: one `GetPublicKey` call signed with the SDK's own `SignatureV4` and sent with `fetch`,
 * as s3-blob-reader.ts reads blobs. The client and its protocol layers would take the API bundle
 * past its 500 KB budget for one call a container makes once.
 */
import { createPublicKey } from "node:crypto";
import { fromEnv } from "@aws-sdk/credential-provider-env";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";
import { SigningError } from "../errors.ts";
import type { EvidenceSigner } from "../ports.ts";
import { NodeSha256 } from "./s3-blob-reader.ts";

const TIMEOUT_MS = 10_000;

export interface KmsPublicKeyOptions {
  keyId: string;
  region: string;
  /** A KMS-compatible server; unset for AWS (`https://kms.<region>.amazonaws.com`). */
  endpoint?: string;
  /** @default the Lambda environment's credentials */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
}

/** Reads the key once per container; a failed read is tried again on the next request. */
export function createKmsPublicKeyReader(options: KmsPublicKeyOptions): Pick<EvidenceSigner, "publicKey"> {
  const url = new URL(options.endpoint ?? `https://kms.${options.region}.amazonaws.com/`);
  const signer = new SignatureV4({
    service: "kms",
    region: options.region,
    credentials: options.credentials ?? fromEnv(),
    sha256: NodeSha256,
  });
  let cached: Promise<Uint8Array> | undefined;

  async function read(): Promise<Uint8Array> {
    const body = JSON.stringify({ KeyId: options.keyId });
    const signed = await signer.sign({
      method: "POST",
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query: {},
      headers: {
        host: url.host,
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": "TrentService.GetPublicKey",
      },
      body,
    });
    let answer: Response;
    try {
      answer = await fetch(url, {
        method: "POST",
        headers: signed.headers,
        body,
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (cause) {
      throw new SigningError(`KMS could not be reached for the public key of ${options.keyId}.`, { cause });
    }
    const text = await answer.text();
    if (!answer.ok) {
      throw new SigningError(
        `KMS answered ${answer.status} for the public key of ${options.keyId}: ${text.slice(0, 200)}`,
      );
    }
    const publicKey = Buffer.from((JSON.parse(text) as { PublicKey?: string }).PublicKey ?? "", "base64");
    let curve: string | undefined;
    try {
      curve = createPublicKey({ key: publicKey, format: "der", type: "spki" }).asymmetricKeyDetails
        ?.namedCurve;
    } catch {
      curve = undefined;
    }
    if (curve !== "prime256v1") {
      throw new SigningError(
        `KMS key ${options.keyId} is ${curve ?? "not a public key"}, not ECC_NIST_P256.`,
      );
    }
    return new Uint8Array(publicKey);
  }

  return {
    publicKey() {
      cached ??= read().catch((error: unknown) => {
        cached = undefined;
        throw error;
      });
      return cached;
    },
  };
}
