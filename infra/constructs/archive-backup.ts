import { Duration, RemovalPolicy, Validations } from "aws-cdk-lib";
import { BackupPlan, BackupPlanRule, BackupResource, BackupVault } from "aws-cdk-lib/aws-backup";
import { Schedule } from "aws-cdk-lib/aws-events";
import { ManagedPolicy, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Construct } from "constructs";
import type { ArchiveBucket } from "./archive-bucket.ts";
import type { ArchiveTable } from "./archive-table.ts";
import { DEFAULTS } from "./defaults.ts";

/** AWS Backup's managed policies for backing up DynamoDB and S3 (no restores: they go elsewhere). */
const BACKUP_POLICIES = [
  "service-role/AWSBackupServiceRolePolicyForBackup",
  "AWSBackupServiceRolePolicyForS3Backup",
] as const;

/** The shortest grace period AWS Backup allows before a compliance-mode vault lock sets. */
const COMPLIANCE_GRACE = Duration.days(3);

/** Props of {@link ArchiveBackup}, as the storage stack takes them. */
export interface ArchiveBackupOptions {
  /**
   * How long each recovery point is kept (whole days, at least 7). The vault lock refuses any
   * shorter retention, and any deletion before it ends.
   * @default Duration.days(365)
   */
  readonly retention?: Duration;
  /**
   * Governance: the vault lock can be removed by whoever may change it (in the account's own
   * IAM). Compliance: after a three-day grace period nobody, AWS included, can remove the lock or
   * a recovery point before its retention ends (keep a governance trial first).
   * @default "governance"
   */
  readonly lockMode?: "governance" | "compliance";
  /** @default - daily at 05:00 UTC */
  readonly schedule?: Schedule;
}

/** Props of {@link ArchiveBackup}. */
export interface ArchiveBackupProps extends ArchiveBackupOptions {
  readonly bucket: ArchiveBucket;
  readonly table: ArchiveTable;
}

/**
 * A locked copy of the archive: AWS Backup backs up the bucket and the table into a vault of
 * their own with Vault Lock, so neither a bad deploy, a compromised role nor a mistaken command
 * in this account can destroy the last copy. Storage doubles (S3 backups cost about as much as
 * S3 Standard), hence off by default; the bucket's Object Lock and the table's point-in-time
 * recovery are the first line.
 */
export class ArchiveBackup extends Construct {
  public readonly vault: BackupVault;
  public readonly plan: BackupPlan;

  constructor(scope: Construct, id: string, props: ArchiveBackupProps) {
    super(scope, id);
    const retention = props.retention ?? DEFAULTS.backupRetention;
    const days = retention.toDays({ integral: false });
    if (!Number.isInteger(days) || days < 7) {
      throw new Error(
        `ArchiveBackup: retention must be whole days, at least 7, got ${retention.toHumanString()}.`,
      );
    }
    const lockMode = props.lockMode ?? "governance";
    if (lockMode !== "governance" && lockMode !== "compliance") {
      throw new Error(
        `ArchiveBackup: lockMode must be governance or compliance, got ${JSON.stringify(lockMode)}.`,
      );
    }
    this.vault = new BackupVault(this, "Vault", {
      lockConfiguration: {
        minRetention: Duration.days(days),
        // A grace period is what makes a vault lock compliance mode; without one it stays governance.
        ...(lockMode === "compliance" ? { changeableFor: COMPLIANCE_GRACE } : {}),
      },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.plan = new BackupPlan(this, "Plan", {
      backupPlanRules: [
        new BackupPlanRule({
          ruleName: "archive",
          backupVault: this.vault,
          scheduleExpression: props.schedule ?? Schedule.cron({ hour: "5", minute: "0" }),
          deleteAfter: Duration.days(days),
        }),
      ],
    });
    const role = new Role(this, "Role", {
      assumedBy: new ServicePrincipal("backup.amazonaws.com"),
      description: "AWS Backup: backs up the Palimpsest archive bucket and table",
      managedPolicies: BACKUP_POLICIES.map((name) => ManagedPolicy.fromAwsManagedPolicyName(name)),
    });
    for (const policy of BACKUP_POLICIES) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${policy}]`,
        reason:
          "AWS Backup's own service policies: they list the table, bucket, object, version and event-notification calls Backup makes, which AWS updates as the service changes.",
      });
    }
    this.plan.addSelection("Archive", {
      role,
      allowRestores: false,
      resources: [
        BackupResource.fromArn(props.bucket.bucket.bucketArn),
        BackupResource.fromDynamoDbTable(props.table.table),
      ],
    });
  }
}
