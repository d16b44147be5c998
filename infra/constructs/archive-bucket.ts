import { type Duration, RemovalPolicy, Validations } from "aws-cdk-lib";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { IKey } from "aws-cdk-lib/aws-kms";
import type { Function as LambdaFunction } from "aws-cdk-lib/aws-lambda";
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type IBucket,
  ObjectOwnership,
} from "aws-cdk-lib/aws-s3";
import { Construct } from "constructs";
import { ENV } from "../../shared/env-names.ts";
import { acknowledgeWildcardResources } from "./acknowledge-wildcards.ts";
import { BLOB_KEY_PREFIX, DEFAULTS } from "./defaults.ts";

/** The flattened form of `<bucket ARN>/blobs/*` in a synthesized policy, as cdk-nag reports it. */
const BLOB_OBJECTS_PATTERN = new RegExp(`/${BLOB_KEY_PREFIX.replace(/\/$/, "")}/\\*$`);
const BLOB_WILDCARD_REASON =
  "Blob keys are content hashes (blobs/sha256/<hex>) unknown at deploy time; access is scoped to the blobs/ prefix.";

/** Props of {@link ArchiveBucket}. */
export interface ArchiveBucketProps {
  /**
   * Customer-managed KMS key for SSE-KMS. The bind methods then also grant the key use that
   * presigning and writing need.
   * @default - SSE-S3 (S3-managed keys), so presigned GETs need no kms:Decrypt on the signer
   */
  readonly encryptionKey?: IKey;
  /**
   * Keep overwritten and deleted objects as noncurrent versions.
   * @default true
   */
  readonly versioned?: boolean;
  /**
   * How long noncurrent versions are kept. Only meaningful with versioning.
   * @default Duration.days(30)
   */
  readonly noncurrentVersionExpiration?: Duration;
  /**
   * Bucket that receives S3 server access logs.
   * @default - no server access logs (CloudTrail data events are the richer alternative)
   */
  readonly serverAccessLogsBucket?: IBucket;
  /**
   * What happens to the bucket when it leaves the stack. A non-empty bucket cannot be destroyed.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The S3 bucket that holds every captured artifact (snapshots, screenshots, articles, raw
 * responses) as content-addressed blobs under `blobs/`. Private, TLS-only, encrypted, versioned.
 *
 * Access goes through the bind methods, which set `BUCKET_NAME` on a function and grant exactly
 * what that role of function needs.
 */
export class ArchiveBucket extends Construct {
  /** The underlying bucket. */
  public readonly bucket: Bucket;
  /** The customer-managed key, when SSE-KMS was chosen. */
  public readonly encryptionKey?: IKey;

  constructor(scope: Construct, id: string, props: ArchiveBucketProps = {}) {
    super(scope, id);
    const versioned = props.versioned ?? true;
    if (!versioned && props.noncurrentVersionExpiration) {
      throw new Error(
        "ArchiveBucket: noncurrentVersionExpiration needs versioned: true (nothing would expire).",
      );
    }
    this.encryptionKey = props.encryptionKey;

    this.bucket = new Bucket(this, "Bucket", {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      // ACLs off: access is decided by IAM alone.
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      ...(props.encryptionKey
        ? { encryption: BucketEncryption.KMS, encryptionKey: props.encryptionKey, bucketKeyEnabled: true }
        : { encryption: BucketEncryption.S3_MANAGED }),
      versioned,
      lifecycleRules: [
        {
          id: "abort-incomplete-multipart-uploads",
          abortIncompleteMultipartUploadAfter: DEFAULTS.abortIncompleteMultipartUploadAfter,
        },
        ...(versioned
          ? [
              {
                id: "expire-noncurrent-versions",
                noncurrentVersionExpiration:
                  props.noncurrentVersionExpiration ?? DEFAULTS.noncurrentVersionExpiration,
              },
            ]
          : []),
      ],
      ...(props.serverAccessLogsBucket
        ? { serverAccessLogsBucket: props.serverAccessLogsBucket, serverAccessLogsPrefix: "archive-bucket/" }
        : {}),
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    if (!props.serverAccessLogsBucket) {
      Validations.of(this.bucket).acknowledge({
        id: "AwsSolutions-S1",
        reason:
          "Server access logs are opt-in (serverAccessLogsBucket): every read is a presigned GET by a function role, which CloudTrail data events record with the caller; a log bucket per deployment is cost nobody asked for.",
      });
    }
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
