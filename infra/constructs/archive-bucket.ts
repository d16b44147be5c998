import { Duration, RemovalPolicy, Stack, Validations } from "aws-cdk-lib";
import { AnyPrincipal, Effect, PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { IKey } from "aws-cdk-lib/aws-kms";
import type { Function as LambdaFunction } from "aws-cdk-lib/aws-lambda";
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type CfnBucket,
  type IBucket,
  ObjectLockRetention,
  ObjectOwnership,
  StorageClass,
} from "aws-cdk-lib/aws-s3";
import { Construct } from "constructs";
import { ENV } from "../../shared/env-names.ts";
import { acknowledgeWildcardResources } from "./acknowledge-wildcards.ts";
import { BLOB_KEY_PREFIX, DEFAULTS } from "./defaults.ts";

/** The flattened form of `<bucket ARN>/blobs/*` in a synthesized policy, as cdk-nag reports it. */
const BLOB_OBJECTS_PATTERN = new RegExp(`/${BLOB_KEY_PREFIX.replace(/\/$/, "")}/\\*$`);
const BLOB_WILDCARD_REASON =
  "Blob keys are content hashes (blobs/sha256/<hex>) unknown at deploy time; access is scoped to the blobs/ prefix.";

/** S3's ceiling on an Object Lock default retention (and CDK's). */
const MAX_RETENTION_DAYS = 36_500;

/**
 * How S3 Object Lock keeps each stored version of the evidence. Governance: nobody can delete or
 * shorten a version's lock without `s3:BypassGovernanceRetention`, which the bucket policy denies
 * to everyone; an operator who must remove a blob (a court order) first changes the bucket policy,
 * which CloudTrail records. Compliance: nobody, the root user included, can delete a version
 * before its retention ends, and the bucket cannot be emptied or deleted until then.
 */
export interface EvidenceLockProps {
  /** @default "governance" */
  readonly mode?: "governance" | "compliance";
  /**
   * Retention every new version gets, in whole days (1 day to 100 years). It counts from the
   * version's creation; a blob stored again is not rewritten (the PUT is conditional), so its
   * retention counts from its first capture.
   * @default Duration.days(3650) (ten years)
   */
  readonly defaultRetention?: Duration;
}

/** Props of {@link ArchiveBucket}. */
export interface ArchiveBucketProps {
  /**
   * Customer-managed KMS key for SSE-KMS. The bind methods then also grant the key use that
   * presigning and writing need.
   * @default - SSE-S3 (S3-managed keys), so presigned GETs need no kms:Decrypt on the signer
   */
  readonly encryptionKey?: IKey;
  /**
   * S3 Object Lock on every object version, or `false` for none (the deny policy on `blobs/*`
   * stays either way). Object Lock cannot be turned off once a bucket has it.
   * @default - governance mode, ten years
   */
  readonly objectLock?: EvidenceLockProps | false;
  /**
   * Move blobs to S3 Intelligent-Tiering this long after they were stored (whole days), or `false`
   * to keep them in S3 Standard. Intelligent-Tiering moves an object untouched for 30 days to
   * Infrequent Access (about 45% cheaper) and back on the next read, with no retrieval fee, so
   * presigned links keep working at the same latency. Objects under 128 KB are not transitioned
   * (S3's default minimum), as their monitoring would cost more than it saves.
   * @default Duration.days(30)
   */
  readonly intelligentTieringAfter?: Duration | false;
  /**
   * Bucket that receives S3 server access logs.
   * @default - no server access logs (CloudTrail data events are the richer alternative)
   */
  readonly serverAccessLogsBucket?: IBucket;
  /**
   * What happens to the bucket when it leaves the stack. A non-empty bucket cannot be destroyed,
   * and a compliance-locked one cannot be emptied: that combination is refused.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The S3 bucket that holds every captured artifact (snapshots, screenshots, articles, raw
 * responses, WACZ packages) as content-addressed blobs under `blobs/`: private, TLS-only,
 * encrypted, versioned, and write-once.
 *
 * Write-once is three layers. (1) Object Lock: every version is locked for its retention.
 * (2) The bucket policy denies, to every principal: deleting an object or a version under
 * `blobs/`, bypassing governance retention, and any PUT or CompleteMultipartUpload there without
 * `If-None-Match` (so an existing blob is never replaced by a newer version; the blob store
 * always sends `If-None-Match: *`). (3) No lifecycle rule expires anything under `blobs/` (a
 * validation refuses one at synth); old blobs only move to a cheaper storage class.
 *
 * What a bucket policy cannot express, and what covers it instead: it cannot stop an
 * administrator from editing or deleting the policy itself (Object Lock still holds every version
 * until its retention ends, and in compliance mode no one can shorten it; the change is in
 * CloudTrail); it cannot tell a blob's bytes from its key (the key is their SHA-256, and the blob
 * store sends that checksum, which S3 verifies); it does not govern S3's own lifecycle actions
 * (hence the validation); and it does not stop new keys being written under `blobs/` by a role
 * allowed to write (only the capture function is).
 *
 * Access goes through the bind methods, which set `BUCKET_NAME` on a function and grant exactly
 * what that role of function needs.
 */
export class ArchiveBucket extends Construct {
  /** The underlying bucket. */
  public readonly bucket: Bucket;
  /** The customer-managed key, when SSE-KMS was chosen. */
  public readonly encryptionKey?: IKey;
  /** The Object Lock default retention, unless Object Lock is off. */
  public readonly objectLock?: ObjectLockRetention;

  constructor(scope: Construct, id: string, props: ArchiveBucketProps = {}) {
    super(scope, id);
    this.encryptionKey = props.encryptionKey;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.objectLock = props.objectLock === false ? undefined : objectLockRetention(props.objectLock ?? {});
    if (this.objectLock?.mode === "COMPLIANCE" && removalPolicy === RemovalPolicy.DESTROY) {
      throw new Error(
        "ArchiveBucket: removalPolicy DESTROY contradicts compliance-mode Object Lock (no one can empty the bucket before its retention ends).",
      );
    }
    const tieringAfter = props.intelligentTieringAfter ?? DEFAULTS.intelligentTieringAfter;
    if (tieringAfter !== false) {
      const days = tieringAfter.toDays({ integral: false });
      if (!Number.isInteger(days) || days < 0) {
        throw new Error(
          `ArchiveBucket: intelligentTieringAfter must be whole days, got ${tieringAfter.toHumanString()}.`,
        );
      }
    }

    this.bucket = new Bucket(this, "Bucket", {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      // ACLs off: access is decided by IAM alone.
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      ...(props.encryptionKey
        ? { encryption: BucketEncryption.KMS, encryptionKey: props.encryptionKey, bucketKeyEnabled: true }
        : { encryption: BucketEncryption.S3_MANAGED }),
      // Object Lock needs versioning, and versions are what it locks.
      versioned: true,
      ...(this.objectLock ? { objectLockEnabled: true, objectLockDefaultRetention: this.objectLock } : {}),
      lifecycleRules: [
        {
          id: "abort-incomplete-multipart-uploads",
          abortIncompleteMultipartUploadAfter: DEFAULTS.abortIncompleteMultipartUploadAfter,
        },
        ...(tieringAfter === false
          ? []
          : [
              {
                id: "tier-old-evidence",
                prefix: BLOB_KEY_PREFIX,
                transitions: [
                  { storageClass: StorageClass.INTELLIGENT_TIERING, transitionAfter: tieringAfter },
                ],
              },
            ]),
      ],
      ...(props.serverAccessLogsBucket
        ? { serverAccessLogsBucket: props.serverAccessLogsBucket, serverAccessLogsPrefix: "archive-bucket/" }
        : {}),
      removalPolicy,
    });
    this.denyEvidenceRewrites();
    this.bucket.node.addValidation({ validate: () => this.lifecycleRulesExpiringEvidence() });
    if (!props.serverAccessLogsBucket) {
      Validations.of(this.bucket).acknowledge({
        id: "AwsSolutions-S1",
        reason:
          "Server access logs are opt-in (serverAccessLogsBucket): the storage stack's ArchiveTrail records every object write under blobs/ (and reads with includeReads) with the caller, which access logs would repeat without the identity.",
      });
    }
  }

  /** The statements that make `blobs/` write-once for every principal (see the class comment). */
  private denyEvidenceRewrites(): void {
    const blobs = this.bucket.arnForObjects(`${BLOB_KEY_PREFIX}*`);
    this.bucket.addToResourcePolicy(
      new PolicyStatement({
        sid: "DenyEvidenceDeletion",
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:BypassGovernanceRetention"],
        resources: [blobs],
      }),
    );
    this.bucket.addToResourcePolicy(
      new PolicyStatement({
        sid: "DenyEvidenceOverwrite",
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ["s3:PutObject"],
        resources: [blobs],
        // ObjectCreationOperation is true for the requests that create an object (PutObject,
        // CopyObject, CompleteMultipartUpload), false for the parts of a multipart upload, which
        // cannot carry conditional headers; its completion must.
        conditions: {
          Null: { "s3:if-none-match": "true" },
          Bool: { "s3:ObjectCreationOperation": "true" },
        },
      }),
    );
  }

  /** Validation: every lifecycle rule that expires objects or versions and could reach `blobs/`. */
  private lifecycleRulesExpiringEvidence(): string[] {
    const cfnBucket = this.bucket.node.defaultChild as CfnBucket;
    const config = Stack.of(this).resolve(cfnBucket.lifecycleConfiguration) as
      | { rules?: Array<Record<string, unknown>> }
      | undefined;
    return (config?.rules ?? [])
      .filter((rule) =>
        [
          "expirationDate",
          "expirationInDays",
          "noncurrentVersionExpiration",
          "noncurrentVersionExpirationInDays",
        ].some((field) => rule[field] !== undefined),
      )
      .filter((rule) => {
        const prefix = (rule.prefix as string | undefined) ?? "";
        return prefix.startsWith(BLOB_KEY_PREFIX) || BLOB_KEY_PREFIX.startsWith(prefix);
      })
      .map(
        (rule) =>
          `lifecycle rule ${JSON.stringify(rule.id ?? "(unnamed)")} expires objects under ${BLOB_KEY_PREFIX}: evidence is never expired.`,
      );
  }

  /**
   * Lets `fn` hand out presigned GET links to blobs: sets `BUCKET_NAME` and grants s3:GetObject on
   * `blobs/*` only. A presigned URL carries its signer's permissions, so the signer needs read
   * access even though it never downloads anything itself.
   */
  public bindPresigner(fn: LambdaFunction): void {
    fn.addEnvironment(ENV.bucketName, this.bucket.bucketName);
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ["s3:GetObject"],
        resources: [this.bucket.arnForObjects(`${BLOB_KEY_PREFIX}*`)],
      }),
    );
    acknowledgeWildcardResources(fn.role ?? fn, BLOB_OBJECTS_PATTERN, BLOB_WILDCARD_REASON);
    this.encryptionKey?.grantDecrypt(fn);
  }

  /**
   * Lets `fn` store content-addressed blobs: sets `BUCKET_NAME`, grants s3:GetObject and
   * s3:PutObject on `blobs/*`. "Store identical bytes once" is a conditional PUT
   * (`If-None-Match: *`, answered 412 when the blob exists), so no HeadObject and no s3:ListBucket.
   */
  public bindBlobWriter(fn: LambdaFunction): void {
    fn.addEnvironment(ENV.bucketName, this.bucket.bucketName);
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ["s3:GetObject", "s3:PutObject"],
        resources: [this.bucket.arnForObjects(`${BLOB_KEY_PREFIX}*`)],
      }),
    );
    acknowledgeWildcardResources(fn.role ?? fn, BLOB_OBJECTS_PATTERN, BLOB_WILDCARD_REASON);
    this.encryptionKey?.grantEncryptDecrypt(fn);
  }
}

/** The CDK retention for `props`, validated (whole days, 1 day to 100 years). */
function objectLockRetention(props: EvidenceLockProps): ObjectLockRetention {
  const retention = props.defaultRetention ?? DEFAULTS.evidenceRetention;
  const days = retention.toDays({ integral: false });
  if (!Number.isInteger(days) || days < 1 || days > MAX_RETENTION_DAYS) {
    throw new Error(
      `ArchiveBucket: objectLock.defaultRetention must be whole days from 1 day to 100 years, got ${retention.toHumanString()}.`,
    );
  }
  const mode = props.mode ?? "governance";
  if (mode !== "governance" && mode !== "compliance") {
    throw new Error(
      `ArchiveBucket: objectLock.mode must be governance or compliance, got ${JSON.stringify(mode)}.`,
    );
  }
  const whole = Duration.days(days);
  return mode === "compliance"
    ? ObjectLockRetention.compliance(whole)
    : ObjectLockRetention.governance(whole);
}
