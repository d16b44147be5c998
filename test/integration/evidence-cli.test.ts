/**
 * `palimpsest verify` as a third party runs it, against a local runner: the runner publishes its
 * key at `GET /v1/signing-key` (from DATA_DIR, without an API key), a package signed with that key
 * verifies against it, and a copy with one byte changed, or a package signed by another key, is
 * refused with exit status 1 and the reason.
 */
import assert from "node:assert/strict";
import { createPublicKey } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type LocalRunner, SIGNING_KEY_FILE, startLocalRunner } from "../../local/runner.ts";
import { openLocalKeySigner } from "../../shared/adapters/local-key-signer.ts";
import { buildWacz } from "../../shared/domain/evidence/build-wacz.ts";
import { createLogger } from "../../shared/logger.ts";
import { evidenceInput, testSigner } from "../support/evidence-fixture.ts";
import { runCli as palimpsest } from "../support/run-cli.ts";

let runner: LocalRunner;
let dataDir: string;
let work: string;
let genuine: string;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "palimpsest-verify-"));
  work = await mkdtemp(join(tmpdir(), "palimpsest-verify-files-"));
  runner = await startLocalRunner({
    dataDir,
    port: 0,
    logger: createLogger({}, "silent"),
    sweepIntervalMs: 0,
    // The key is public: it is served without one even when the API asks for keys.
    env: { API_KEY: "secret-key" },
  });
  // The package is signed with the runner's own key, as its capture worker signs.
  const signer = await openLocalKeySigner(join(dataDir, SIGNING_KEY_FILE));
  genuine = join(work, "capture.wacz");
  await writeFile(genuine, (await buildWacz(evidenceInput(), signer, { version: "0.1.0" })).bytes);
});

after(async () => {
  await runner?.close();
  await rm(dataDir, { recursive: true, force: true });
  await rm(work, { recursive: true, force: true });
});

describe("GET /v1/signing-key", () => {
  it("publishes the runner's key as base64 SPKI DER, without an API key", async () => {
    const response = await fetch(`${runner.url}/v1/signing-key`);
    assert.equal(response.status, 200);
    const body = (await response.json()) as { publicKey: string; algorithm: string };
    assert.equal(body.algorithm, "ECDSA_P256_SHA256");
    const key = createPublicKey({ key: Buffer.from(body.publicKey, "base64"), format: "der", type: "spki" });
    assert.equal(key.asymmetricKeyDetails?.namedCurve, "prime256v1");
    const own = await openLocalKeySigner(join(dataDir, SIGNING_KEY_FILE));
    assert.deepEqual(new Uint8Array(Buffer.from(body.publicKey, "base64")), await own.publicKey());
  });
});

describe("palimpsest verify", () => {
  it("accepts a package signed by the archive's key, checked against the key the API publishes", async () => {
    const { code, stdout, stderr } = await palimpsest(
      { PALIMPSEST_API: runner.url },
      "verify",
      genuine,
      "--api",
    );
    assert.equal(stderr, "");
    assert.equal(code, 0);
    assert.match(stdout, /^valid: .*capture\.wacz\n/);
    assert.match(stdout, /signed by {2}sha256:[0-9a-f]{64} \(the archive's key\)/);
    assert.match(stdout, /checked {4}5 files, 18 WARC records/);
  });

  it("refuses a copy with one byte changed, exit status 1, naming the file and the record", async () => {
    const bytes = new Uint8Array(await readFile(genuine));
    // A byte inside the WARC's data: the page's response record.
    const at = Buffer.from(bytes).indexOf("archive/data.warc.gz") + 1200;
    bytes[at] = (bytes[at] ?? 0) ^ 0x01;
    const tampered = join(work, "tampered.wacz");
    await writeFile(tampered, bytes);
    const { code, stdout } = await palimpsest({}, "verify", tampered);
    assert.equal(code, 1);
    assert.match(stdout, /^invalid: .*tampered\.wacz\n/);
    assert.match(
      stdout,
      /archive\/data\.warc\.gz: its sha256 is sha256:[0-9a-f]{64}, not sha256:[0-9a-f]{64} as datapackage\.json says/,
    );
    assert.match(stdout, /archive\/data\.warc\.gz( record \d+ \(\w+ [^)]*\))?: /);
  });

  it("refuses a genuine package when the key given is not the one that signed it", async () => {
    const other = testSigner();
    const keyFile = join(work, "other.pem");
    await writeFile(
      keyFile,
      createPublicKey({ key: Buffer.from(other.publicKeyDer), format: "der", type: "spki" }).export({
        format: "pem",
        type: "spki",
      }),
    );
    const { code, stdout } = await palimpsest({}, "verify", genuine, "--key", keyFile);
    assert.equal(code, 1);
    assert.match(
      stdout,
      /datapackage-digest\.json: was signed by key sha256:[0-9a-f]{64}, not the expected key sha256:[0-9a-f]{64}/,
    );
  });

  it("prints the result as JSON, and says how to use it when given no file", async () => {
    const json = await palimpsest({}, "verify", genuine, "--json");
    assert.equal(json.code, 0);
    const result = JSON.parse(json.stdout) as { valid: boolean; records: number; publicKey: string };
    assert.equal(result.valid, true);
    assert.equal(result.records, 18);
    const usage = await palimpsest({}, "verify");
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /verify needs exactly one \.wacz file/);
  });
});
