import { RemovalPolicy } from "aws-cdk-lib";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import { Key, KeySpec, KeyUsage } from "aws-cdk-lib/aws-kms";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { Construct } from "constructs";
import { ENV } from "../../shared/env-names.ts";

/**
 * The key that signs every capture's evidence package (WACZ `datapackage-digest.json`): an
 * asymmetric KMS key, ECC_NIST_P256 for SIGN_VERIFY, whose private half never leaves KMS.
 *
 * Retained with the archive, like the bucket: every package ever signed names its public key, and
 * readers check packages against `GET /v1/signing-key`; a new key would orphan them. Asymmetric
 * KMS keys cannot be rotated automatically, and should not be: a rotation is a new public key to
 * publish. The key policy is KMS's default (the account's IAM decides); the functions get only the
 * actions below through their roles.
 */
export class EvidenceSigningKey extends Construct {
  public readonly key: Key;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.key = new Key(this, "Key", {
      description: "Palimpsest: signs each capture's evidence package (WACZ)",
      keySpec: KeySpec.ECC_NIST_P256,
      keyUsage: KeyUsage.SIGN_VERIFY,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /**
   * The capture function signs with the key: `kms:Sign`, and `kms:GetPublicKey` to write the public
   * key beside each signature (reading the public half grants no use of the private one). No
   * verify, decrypt or key administration.
   */
  public bindSigner(fn: IFunction & { addEnvironment(key: string, value: string): unknown }): void {
    fn.addEnvironment(ENV.signingKeyArn, this.key.keyArn);
    fn.addToRolePolicy(
      new PolicyStatement({ actions: ["kms:Sign", "kms:GetPublicKey"], resources: [this.key.keyArn] }),
    );
  }

  /** The API function publishes the public key (`GET /v1/signing-key`): `kms:GetPublicKey` only. */
  public bindPublicKeyReader(fn: IFunction & { addEnvironment(key: string, value: string): unknown }): void {
    fn.addEnvironment(ENV.signingKeyArn, this.key.keyArn);
    fn.addToRolePolicy(new PolicyStatement({ actions: ["kms:GetPublicKey"], resources: [this.key.keyArn] }));
  }
}
