/**
 * The two evidence signers against what they talk to: the local key on a real file system, the
 * KMS signer against moto_server's KMS (which signs with ECC_NIST_P256 keys and answers DER, as
 * AWS does). Each signature is checked by `verifyWacz` and by node:crypto directly.
 */
import assert from "node:assert/strict";
import { createPublicKey, verify } from "node:crypto";
import { chmod, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CreateKeyCommand, GetPublicKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { createKmsPublicKeyReader } from "../../shared/adapters/kms-public-key.ts";
import { createKmsSigner } from "../../shared/adapters/kms-signer.ts";
import { openLocalKeySigner } from "../../shared/adapters/local-key-signer.ts";
import { buildWacz } from "../../shared/domain/evidence/build-wacz.ts";
import { verifyWacz } from "../../shared/domain/evidence/verify-wacz.ts";
import type { EvidenceSigner } from "../../shared/ports.ts";
import { evidenceInput } from "../support/evidence-fixture.ts";
import { type MotoServer, motoServerUnavailable, startMotoServer } from "../support/local-account.ts";

const message = new TextEncoder().encode(
  "sha256:5f1ca6ffbc0fcdd8b44d9d9f0d4b1f7ac43c3e4ea2be8d3a9f3b4f7a5b2d4e11",
);

function verifiesWith(publicKeyDer: Uint8Array, signature: Uint8Array): boolean {
  const key = createPublicKey({ key: Buffer.from(publicKeyDer), format: "der", type: "spki" });
  return verify("sha256", message, { key, dsaEncoding: "ieee-p1363" }, signature);
}

async function signsAVerifiablePackage(signer: EvidenceSigner): Promise<void> {
  const { bytes } = await buildWacz(evidenceInput(), signer, { version: "0.1.0" });
  const result = await verifyWacz(bytes, { expectedPublicKey: await signer.publicKey() });
  assert.deepEqual(result.problems, []);
}

describe("the local signing key", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "palimpsest-key-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("is made once, readable by its owner only, and signs P1363 signatures that verify", async () => {
    const path = join(dir, "signing-key.pem");
    const signer = await openLocalKeySigner(path);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    const again = await openLocalKeySigner(path);
    assert.deepEqual(await again.publicKey(), await signer.publicKey(), "the same key on the next start");
    const signature = await signer.sign(message);
    assert.equal(signature.length, 64);
    assert.equal(verifiesWith(await signer.publicKey(), signature), true);
    await signsAVerifiablePackage(signer);
  });

  it("refuses a key file others can read, and one that is not a key", async () => {
    const path = join(dir, "shared-key.pem");
    await openLocalKeySigner(path);
    await chmod(path, 0o644);
    await assert.rejects(openLocalKeySigner(path), {
      code: "config_error",
      message: /can be read by others .*chmod 600/,
    });
    const garbage = join(dir, "garbage.pem");
    await writeFile(garbage, "not a key", { mode: 0o600 });
    await assert.rejects(openLocalKeySigner(garbage), {
      code: "config_error",
      message: /is not a private key/,
    });
  });
});

const unavailable = motoServerUnavailable();

describe("the KMS signer", { skip: unavailable }, () => {
  let moto: MotoServer;
  let client: KMSClient;
  before(async () => {
    moto = await startMotoServer();
    client = new KMSClient({
      endpoint: moto.endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    });
  });
  after(async () => {
    client?.destroy();
    await moto?.close();
  });

  async function createKey(keySpec: "ECC_NIST_P256" | "ECC_NIST_P384"): Promise<string> {
    const created = await client.send(new CreateKeyCommand({ KeySpec: keySpec, KeyUsage: "SIGN_VERIFY" }));
    return created.KeyMetadata?.Arn ?? assert.fail("KMS gave no key ARN");
  }

  it("gives KMS's public key and turns its DER signatures into ones WebCrypto verifies", async () => {
    const keyId = await createKey("ECC_NIST_P256");
    const signer = createKmsSigner({ client, keyId });
    const { PublicKey } = await client.send(new GetPublicKeyCommand({ KeyId: keyId }));
    assert.deepEqual(await signer.publicKey(), PublicKey);
    for (let i = 0; i < 20; i++) {
      const signature = await signer.sign(message);
      assert.equal(signature.length, 64);
      assert.equal(verifiesWith(await signer.publicKey(), signature), true, `signature ${i}`);
      const webKey = await crypto.subtle.importKey(
        "spki",
        Buffer.from(await signer.publicKey()),
        { name: "ECDSA", namedCurve: "P-256" },
        false,
        ["verify"],
      );
      assert.equal(
        await crypto.subtle.verify(
          { name: "ECDSA", hash: "SHA-256" },
          webKey,
          Buffer.from(signature),
          message,
        ),
        true,
      );
    }
    await signsAVerifiablePackage(signer);
  });

  it("gives the API the same public key with one signed request, without the KMS client", async () => {
    const keyId = await createKey("ECC_NIST_P256");
    const credentials = { accessKeyId: "testing", secretAccessKey: "testing" };
    const reader = createKmsPublicKeyReader({
      keyId,
      region: "us-east-1",
      endpoint: moto.endpoint,
      credentials,
    });
    const { PublicKey } = await client.send(new GetPublicKeyCommand({ KeyId: keyId }));
    assert.deepEqual(await reader.publicKey(), PublicKey);
    const p384 = createKmsPublicKeyReader({
      keyId: await createKey("ECC_NIST_P384"),
      region: "us-east-1",
      endpoint: moto.endpoint,
      credentials,
    });
    await assert.rejects(p384.publicKey(), {
      code: "signing_error",
      message: /secp384r1, not ECC_NIST_P256/,
    });
    const missing = createKmsPublicKeyReader({
      keyId: "alias/none",
      region: "us-east-1",
      endpoint: moto.endpoint,
      credentials,
    });
    await assert.rejects(missing.publicKey(), { code: "signing_error", message: /KMS answered 400/ });
  });

  it("refuses a key that is not P-256, and says when KMS cannot sign", async () => {
    const p384 = createKmsSigner({ client, keyId: await createKey("ECC_NIST_P384") });
    await assert.rejects(p384.publicKey(), {
      code: "signing_error",
      message: /is (ECC_NIST_P384|secp384r1), not ECC_NIST_P256/,
    });
    const missing = createKmsSigner({
      client,
      keyId: "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000",
    });
    await assert.rejects(missing.sign(message), { code: "signing_error", message: /KMS did not sign/ });
  });
});
