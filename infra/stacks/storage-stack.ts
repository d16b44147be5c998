import { CfnOutput, Stack, type StackProps } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { AlarmTopic, type AlarmTopicProps } from "../constructs/alarm-topic.ts";
import { ArchiveBackup, type ArchiveBackupOptions } from "../constructs/archive-backup.ts";
import { ArchiveBucket, type ArchiveBucketProps } from "../constructs/archive-bucket.ts";
import { ArchiveTable, type ArchiveTableProps } from "../constructs/archive-table.ts";
import { ArchiveTrail, type ArchiveTrailProps } from "../constructs/archive-trail.ts";
import { CaptureQueue, type CaptureQueueProps } from "../constructs/capture-queue.ts";
import {
  ARTICLE_EDITED_DETAIL_TYPE,
  EDIT_EVENT_SOURCE,
  EditEvents,
  type EditEventsProps,
} from "../constructs/edit-events.ts";
import { EvidenceSigningKey } from "../constructs/evidence-signing-key.ts";
import { PublicDomain, type PublicDomainProps } from "../constructs/public-domain.ts";

/** The stateful resources the service stack is wired to. */
export interface ArchiveStorage {
  readonly bucket: ArchiveBucket;
  readonly table: ArchiveTable;
  /** The capture queues: scheduled (sweeper, polls) and interactive (the API), one DLQ. */
  readonly queue: CaptureQueue;
  readonly editEvents: EditEvents;
  /** Where every alarm of both stacks sends its notifications. */
  readonly alarmTopic: AlarmTopic;
  /** The KMS key that signs every capture's evidence package. */
  readonly signingKey: EvidenceSigningKey;
  /** The archive's permanent public address, when configured. */
  readonly publicDomain?: PublicDomain;
}

/** Props of {@link PalimpsestStorageStack}. */
export interface PalimpsestStorageStackProps extends StackProps {
  /** @default - {@link ArchiveBucket}'s defaults */
  readonly bucket?: ArchiveBucketProps;
  /** @default - {@link ArchiveTable}'s defaults */
  readonly table?: ArchiveTableProps;
  /** @default - {@link CaptureQueue}'s defaults (sized for the capture function's default timeout) */
  readonly queue?: CaptureQueueProps;
  /** @default - {@link EditEvents}' defaults (a 30-day archive) */
  readonly editEvents?: EditEventsProps;
  /** @default - {@link AlarmTopic}'s defaults: no subscriptions */
  readonly alarmTopic?: AlarmTopicProps;
  /**
   * The CloudTrail trail of the archive bucket's data events, or `false` for none.
   * @default - {@link ArchiveTrail}'s defaults: writes under `blobs/`, kept a year
   */
  readonly trail?: Omit<ArchiveTrailProps, "archive"> | false;
  /**
   * A locked copy of the bucket and the table in an AWS Backup vault with Vault Lock.
   * @default - none (Object Lock and point-in-time recovery only)
   */
  readonly backup?: ArchiveBackupOptions;
  /**
   * A custom domain for the API (`archive.example.org`), kept here so that Memento URIs and feed
   * links outlive the service stack. The service stack maps its API to it and builds every
   * absolute link from it (`PUBLIC_BASE_URL`).
   * @default - none: the API answers on its `execute-api` host, which changes if the service stack is replaced
   */
  readonly publicDomain?: PublicDomainProps;
}

/**
 * The stateful half of Palimpsest: the archive bucket, the table, the capture queues, the edits
 * event bus, the alarm topic and the evidence signing key. It changes rarely, is termination-protected by default, and its
 * data resources are retained, so the stateless service stack can be replaced or destroyed freely.
 *
 * The event bus is here, not with the functions, because it is a contract others build on:
 * subscribers' rules live on the bus and disappear with it, their ARNs name it, and its archive
 * holds past events for replay. Redeploying or replacing the service stack must not touch it.
 * The alarm topic is here for the same reason: its subscriptions (confirmed emails, a chat
 * channel, a pager) live on it and its ARN is configured elsewhere.
 */
export class PalimpsestStorageStack extends Stack implements ArchiveStorage {
  public readonly bucket: ArchiveBucket;
  public readonly table: ArchiveTable;
  public readonly queue: CaptureQueue;
  public readonly editEvents: EditEvents;
  public readonly alarmTopic: AlarmTopic;
  public readonly signingKey: EvidenceSigningKey;
  /** The archive bucket's data-event trail, unless turned off. */
  public readonly trail?: ArchiveTrail;
  /** The locked AWS Backup copy, when configured. */
  public readonly backup?: ArchiveBackup;
  public readonly publicDomain?: PublicDomain;

  constructor(scope: Construct, id: string, props: PalimpsestStorageStackProps = {}) {
    super(scope, id, {
      description: "Palimpsest storage: archive bucket, table, capture queues, edits event bus",
      ...props,
      terminationProtection: props.terminationProtection ?? true,
    });
    this.bucket = new ArchiveBucket(this, "ArchiveBucket", props.bucket);
    if (props.trail !== false) {
      this.trail = new ArchiveTrail(this, "ArchiveTrail", { ...props.trail, archive: this.bucket.bucket });
    }
    this.table = new ArchiveTable(this, "ArchiveTable", props.table);
    if (props.backup) {
      this.backup = new ArchiveBackup(this, "ArchiveBackup", {
        ...props.backup,
        bucket: this.bucket,
        table: this.table,
      });
    }
    this.queue = new CaptureQueue(this, "CaptureQueue", props.queue);
    this.editEvents = new EditEvents(this, "EditEvents", props.editEvents);
    this.alarmTopic = new AlarmTopic(this, "AlarmTopic", props.alarmTopic);
    this.alarmTopic.notifyOn(this);
    this.signingKey = new EvidenceSigningKey(this, "EvidenceSigningKey");
    if (props.publicDomain) {
      this.publicDomain = new PublicDomain(this, "PublicDomain", props.publicDomain);
      new CfnOutput(this, "PublicBaseUrl", {
        value: this.publicDomain.baseUrl,
        description: "The archive's permanent address (Memento URIs, feeds and links start with it)",
      });
      if (this.publicDomain.domain) {
        new CfnOutput(this, "RegionalDomainName", {
          value: this.publicDomain.domain.domainNameAliasDomainName,
          description: "Point the public domain here (CNAME or alias) when its DNS is not in Route 53",
        });
      }
    }

    new CfnOutput(this, "EditEventBusName", {
      value: this.editEvents.bus.eventBusName,
      description: `Subscribe with a rule on this bus matching ${JSON.stringify({ source: [EDIT_EVENT_SOURCE], "detail-type": [ARTICLE_EDITED_DETAIL_TYPE] })}`,
    });
    new CfnOutput(this, "EditEventBusArn", { value: this.editEvents.bus.eventBusArn });
    new CfnOutput(this, "EvidenceSigningKeyArn", {
      value: this.signingKey.key.keyArn,
      description:
        "Signs each capture's WACZ; its public key: aws kms get-public-key --key-id <arn>, or GET /v1/signing-key",
    });
    new CfnOutput(this, "AlarmTopicArn", {
      value: this.alarmTopic.topic.topicArn,
      description: "Every alarm of both stacks notifies this topic (ALARM and OK); subscribe to it",
    });
  }
}
