import { Duration, RemovalPolicy, Validations } from "aws-cdk-lib";
import { ReadWriteType, Trail } from "aws-cdk-lib/aws-cloudtrail";
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type IBucket,
  ObjectOwnership,
} from "aws-cdk-lib/aws-s3";
import { Construct } from "constructs";
import { BLOB_KEY_PREFIX, DEFAULTS } from "./defaults.ts";

/** Props of {@link ArchiveTrail}. */
export interface ArchiveTrailProps {
  /** The bucket whose object-level API calls are recorded. */
  readonly archive: IBucket;
  /**
   * Record reads (every GetObject, presigned links included) as well as writes. Writes (PutObject,
   * and the deletes the bucket policy refuses, recorded with their AccessDenied) are always
   * recorded. Data events cost $0.10 per 100,000: at ten million captures a day, reads and writes
   * together are thousands of dollars a month, writes alone about a third of that.
   * @default false
   */
  readonly includeReads?: boolean;
  /**
   * How long the trail's log files are kept (whole days).
   * @default Duration.days(365)
   */
  readonly retention?: Duration;
}

/**
 * A CloudTrail trail of the archive bucket's data events under `blobs/`: who wrote each blob, and
 * who tried to delete or replace one (refused by the bucket policy, recorded all the same). Log
 * file validation is on, so a digest file signs each hour of logs and a tampered or removed log
 * file is detectable (`aws cloudtrail validate-logs`). Management events are left to the account's
 * own trail; this one records only what the archive's evidence needs.
 */
export class ArchiveTrail extends Construct {
  public readonly trail: Trail;
  /** Where the log files go: private, TLS-only, versioned, retained with the stack's data. */
  public readonly logBucket: Bucket;

  constructor(scope: Construct, id: string, props: ArchiveTrailProps) {
    super(scope, id);
    const retention = props.retention ?? DEFAULTS.trailRetention;
    const days = retention.toDays({ integral: false });
    if (!Number.isInteger(days) || days < 1) {
      throw new Error(`ArchiveTrail: retention must be whole days, got ${retention.toHumanString()}.`);
    }
    this.logBucket = new Bucket(this, "Logs", {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      lifecycleRules: [
        {
          id: "expire-trail-logs",
          expiration: Duration.days(days),
          noncurrentVersionExpiration: Duration.days(1),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.logBucket).acknowledge({
      id: "AwsSolutions-S1",
      reason:
        "This bucket holds CloudTrail's own log files; logging access to the logs would need a bucket of its own, and so on.",
    });
    this.trail = new Trail(this, "Trail", {
      bucket: this.logBucket,
      isMultiRegionTrail: false,
      includeGlobalServiceEvents: false,
      managementEvents: ReadWriteType.NONE,
      enableFileValidation: true,
    });
    this.trail.addS3EventSelector([{ bucket: props.archive, objectPrefix: BLOB_KEY_PREFIX }], {
      readWriteType: props.includeReads ? ReadWriteType.ALL : ReadWriteType.WRITE_ONLY,
      includeManagementEvents: false,
    });
  }
}
