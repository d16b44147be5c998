/**
 * The evidence signing key: an asymmetric P-256 KMS key in the storage stack, retained with the
 * archive, that the capture function may sign with (and read the public half of), the API
 * function may only read the public half of, and no other function may touch.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import type { Template } from "aws-cdk-lib/assertions";
import { ENV } from "../../shared/env-names.ts";
import { logicalIdOf, refersTo, statementsOf, synthPalimpsest } from "./synth.ts";

describe("evidence signing key", () => {
  let synth: ReturnType<typeof synthPalimpsest>;
  let storage: Template;
  let service: Template;
  const keyArn = () => synth.storage.signingKey.key.keyArn;
  const isKey = (value: unknown) => refersTo(value, synth.storage, storage, keyArn());
  const kmsStatements = (fn: Parameters<typeof statementsOf>[1]) =>
    statementsOf(service, fn).filter((s) => s.actions.some((a) => a.startsWith("kms:")));
  const envOf = (fn: Parameters<typeof statementsOf>[1]) =>
    service.findResources("AWS::Lambda::Function")[logicalIdOf(fn)]?.Properties.Environment
      .Variables as Record<string, unknown>;

  before(() => {
    synth = synthPalimpsest();
    storage = synth.storageTemplate;
    service = synth.serviceTemplate;
  });

  test("is an ECC_NIST_P256 SIGN_VERIFY key in the storage stack, retained, not rotated", () => {
    const keys = storage.findResources("AWS::KMS::Key");
    const key = keys[logicalIdOf(synth.storage.signingKey.key)];
    assert.ok(key, "the key is in the storage stack");
    assert.equal(key.Properties.KeySpec, "ECC_NIST_P256");
    assert.equal(key.Properties.KeyUsage, "SIGN_VERIFY");
    assert.equal(key.DeletionPolicy, "Retain");
    assert.equal(key.UpdateReplacePolicy, "Retain");
    // KMS cannot rotate asymmetric keys; a rotation would be a new public key to publish.
    assert.notEqual(key.Properties.EnableKeyRotation, true);
    assert.ok(storage.toJSON().Outputs.EvidenceSigningKeyArn, "its ARN is a stack output");
  });

  test("the capture function may sign with it and read its public key, nothing else", () => {
    const statements = kmsStatements(synth.service.captureFunction);
    assert.equal(statements.length, 1);
    assert.deepEqual([...(statements[0]?.actions ?? [])].sort(), ["kms:GetPublicKey", "kms:Sign"]);
    assert.equal(statements[0]?.effect, "Allow");
    assert.equal(statements[0]?.resources.length, 1);
    assert.ok(isKey(statements[0]?.resources[0]), "on the signing key only");
    assert.ok(
      isKey(envOf(synth.service.captureFunction)[ENV.signingKeyArn]),
      "SIGNING_KEY_ARN names the key",
    );
  });

  test("the API function may only read its public key, to publish it", () => {
    const statements = kmsStatements(synth.service.apiFunction);
    assert.equal(statements.length, 1);
    assert.deepEqual(statements[0]?.actions, ["kms:GetPublicKey"]);
    assert.ok(isKey(statements[0]?.resources[0]));
    assert.ok(isKey(envOf(synth.service.apiFunction)[ENV.signingKeyArn]));
  });

  test("the sweeper and the dead-letter function have no KMS access at all", () => {
    for (const fn of [synth.service.sweeperFunction, synth.service.deadLetterFunction]) {
      assert.deepEqual(kmsStatements(fn), [], fn.node.id);
      assert.equal(envOf(fn)[ENV.signingKeyArn], undefined, fn.node.id);
    }
  });
});
