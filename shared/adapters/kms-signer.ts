/**
 * The AWS evidence signer: an asymmetric KMS key (ECC_NIST_P256, SIGN_VERIFY). KMS signs with
 * ECDSA_SHA_256 and answers a DER `ECDSA-Sig-Value`; the WACZ signature is WebCrypto's IEEE
 * P1363 `r‖s` (what ReplayWeb.page hands to `crypto.subtle.verify`), so the DER is unpacked here.
 */
import { createPublicKey } from "node:crypto";
import { GetPublicKeyCommand, type KMSClient, SignCommand } from "@aws-sdk/client-kms";
import { ECDSASigValue } from "@peculiar/asn1-ecc";
import { AsnConvert } from "@peculiar/asn1-schema";
import { SigningError } from "../errors.ts";
import type { EvidenceSigner } from "../ports.ts";

/** P-256's scalars are 32 bytes; r and s are each padded to that in P1363. */
const P256_SCALAR_BYTES = 32;

export function createKmsSigner(options: { client: KMSClient; keyId: string }): EvidenceSigner {
  const { client, keyId } = options;
  let publicKey: Promise<Uint8Array> | undefined;
  return {
    publicKey() {
      publicKey ??= client.send(new GetPublicKeyCommand({ KeyId: keyId })).then(
        (answer) => {
          // The key itself says what it is (KMS's KeySpec label is newer than some stand-ins).
          const curve = answer.PublicKey ? curveOf(answer.PublicKey) : undefined;
          if (!answer.PublicKey || curve !== "prime256v1") {
            publicKey = undefined;
            throw new SigningError(
              `KMS key ${keyId} is ${answer.KeySpec ?? curve ?? "unknown"}, not ECC_NIST_P256.`,
            );
          }
          return answer.PublicKey;
        },
        (cause: unknown) => {
          publicKey = undefined;
          throw new SigningError(`KMS did not give the public key of ${keyId}.`, { cause });
        },
      );
      return publicKey;
    },
    async sign(message) {
      let der: Uint8Array | undefined;
      try {
        ({ Signature: der } = await client.send(
          new SignCommand({
            KeyId: keyId,
            Message: message,
            MessageType: "RAW",
            SigningAlgorithm: "ECDSA_SHA_256",
          }),
        ));
      } catch (cause) {
        throw new SigningError(`KMS did not sign with ${keyId}.`, { cause });
      }
      if (!der) throw new SigningError(`KMS answered without a signature for ${keyId}.`);
      return derToP1363(der);
    },
  };
}

function curveOf(spki: Uint8Array): string | undefined {
  try {
    return createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" }).asymmetricKeyDetails
      ?.namedCurve;
  } catch {
    return undefined;
  }
}

/** DER `SEQUENCE { INTEGER r, INTEGER s }` to `r‖s`, each a 32-byte big-endian number. */
export function derToP1363(der: Uint8Array): Uint8Array {
  let value: ECDSASigValue;
  try {
    value = AsnConvert.parse(der, ECDSASigValue);
  } catch (cause) {
    throw new SigningError("KMS's signature is not a DER ECDSA signature.", { cause });
  }
  const out = new Uint8Array(2 * P256_SCALAR_BYTES);
  out.set(fixedWidth(new Uint8Array(value.r)), 0);
  out.set(fixedWidth(new Uint8Array(value.s)), P256_SCALAR_BYTES);
  return out;
}

function fixedWidth(integer: Uint8Array): Uint8Array {
  // DER integers are minimal and signed: a leading 0x00 keeps a high bit positive.
  let start = 0;
  while (start < integer.length - 1 && integer[start] === 0) start++;
  const digits = integer.subarray(start);
  if (digits.length > P256_SCALAR_BYTES) throw new SigningError("KMS's signature is not a P-256 signature.");
  const out = new Uint8Array(P256_SCALAR_BYTES);
  out.set(digits, P256_SCALAR_BYTES - digits.length);
  return out;
}
