import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { before, describe, test } from "node:test";
import { Match, type Template } from "aws-cdk-lib/assertions";
import { BLOB_KEY_PREFIX, REPO_ROOT } from "../../infra/constructs/defaults.ts";
import { ARTICLE_EDITED_DETAIL_TYPE, EDIT_EVENT_SOURCE } from "../../infra/constructs/edit-events.ts";
import { EVENT_SOURCE } from "../../shared/adapters/eventbridge-publisher.ts";
import { TABLE_INDEXES, TABLE_KEY } from "../../shared/adapters/table-schema.ts";
import { CAPTURE_MESSAGE_RETENTION_MS } from "../../shared/domain/sweep.ts";
import type { ArticleEditedEvent } from "../../shared/ports.ts";
import { logicalIdOf, synthPalimpsest } from "./synth.ts";

describe("storage stack", () => {
  let storage: Template;
  let service: Template;
  let synth: ReturnType<typeof synthPalimpsest>;

  before(() => {
    synth = synthPalimpsest();
    storage = synth.storageTemplate;
    service = synth.serviceTemplate;
  });

  /** `<bucket ARN>/blobs/*` as the storage template writes it. */
  const blobObjectsArn = () =>
    synth.storage.resolve(synth.storage.bucket.bucket.arnForObjects(`${BLOB_KEY_PREFIX}*`));

  test("is termination-protected", () => {
    assert.equal(synth.storage.terminationProtection, true);
  });

  describe("archive bucket", () => {
    test("blocks all public access, disables ACLs, is encrypted and versioned, and is retained", () => {
      storage.hasResource("AWS::S3::Bucket", {
        DeletionPolicy: "Retain",
        UpdateReplacePolicy: "Retain",
        Properties: Match.objectLike({
          PublicAccessBlockConfiguration: {
            BlockPublicAcls: true,
            BlockPublicPolicy: true,
            IgnorePublicAcls: true,
            RestrictPublicBuckets: true,
          },
          OwnershipControls: { Rules: [{ ObjectOwnership: "BucketOwnerEnforced" }] },
          BucketEncryption: {
            ServerSideEncryptionConfiguration: [
              { ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } },
            ],
          },
          VersioningConfiguration: { Status: "Enabled" },
        }),
      });
    });

    test("aborts stale multipart uploads and tiers blobs to Intelligent-Tiering after 30 days", () => {
      // One assertion per rule: arrayWith is order-sensitive, and rule order means nothing.
      for (const rule of [
        { AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } },
        {
          Prefix: BLOB_KEY_PREFIX,
          Transitions: [{ StorageClass: "INTELLIGENT_TIERING", TransitionInDays: 30 }],
        },
      ]) {
        storage.hasResourceProperties("AWS::S3::Bucket", {
          LifecycleConfiguration: {
            Rules: Match.arrayWith([Match.objectLike({ Status: "Enabled", ...rule })]),
          },
        });
      }
    });

    test("no lifecycle rule expires an object or a version", () => {
      const [bucket] = Object.values(storage.findResources("AWS::S3::Bucket"));
      const rules = bucket?.Properties.LifecycleConfiguration.Rules as Array<Record<string, unknown>>;
      assert.ok(rules.length > 0);
      for (const rule of rules) {
        for (const field of [
          "ExpirationDate",
          "ExpirationInDays",
          "ExpiredObjectDeleteMarker",
          "NoncurrentVersionExpiration",
          "NoncurrentVersionExpirationInDays",
        ]) {
          assert.equal(rule[field], undefined, `${rule.Id} sets ${field}`);
        }
      }
    });

    test("Object Lock keeps every version in governance mode for ten years by default", () => {
      storage.hasResourceProperties("AWS::S3::Bucket", {
        ObjectLockEnabled: true,
        ObjectLockConfiguration: {
          ObjectLockEnabled: "Enabled",
          Rule: { DefaultRetention: { Mode: "GOVERNANCE", Days: 3650 } },
        },
        VersioningConfiguration: { Status: "Enabled" },
      });
    });

    test("its policy denies everyone deleting a blob or a version, or bypassing the lock", () => {
      storage.hasResourceProperties("AWS::S3::BucketPolicy", {
        PolicyDocument: {
          Statement: Match.arrayWith([
            {
              Sid: "DenyEvidenceDeletion",
              Effect: "Deny",
              Principal: { AWS: "*" },
              Action: ["s3:BypassGovernanceRetention", "s3:DeleteObject", "s3:DeleteObjectVersion"],
              Resource: blobObjectsArn(),
            },
          ]),
        },
      });
    });

    test("its policy denies everyone a blob write that could replace an existing blob", () => {
      storage.hasResourceProperties("AWS::S3::BucketPolicy", {
        PolicyDocument: {
          Statement: Match.arrayWith([
            {
              Sid: "DenyEvidenceOverwrite",
              Effect: "Deny",
              Principal: { AWS: "*" },
              Action: "s3:PutObject",
              Resource: blobObjectsArn(),
              Condition: {
                Null: { "s3:if-none-match": "true" },
                Bool: { "s3:ObjectCreationOperation": "true" },
              },
            },
          ]),
        },
      });
    });

    test("every object write the adapters send is a conditional create, which that policy lets through", () => {
      const adapters = readdirSync(path.join(REPO_ROOT, "shared/adapters"), { recursive: true })
        .map(String)
        .filter((file) => file.endsWith(".ts"))
        .map((file) => ({
          file,
          source: readFileSync(path.join(REPO_ROOT, "shared/adapters", file), "utf8"),
        }));
      // Copies and multipart uploads would need their own conditional completion: none exist.
      for (const { file, source } of adapters) {
        assert.doesNotMatch(
          source,
          /\b(CopyObjectCommand|CompleteMultipartUploadCommand|DeleteObjectCommand|DeleteObjectsCommand)\b|@aws-sdk\/lib-storage/,
          file,
        );
      }
      const puts = adapters.flatMap(({ file, source }) =>
        source
          .split(/new PutObjectCommand\(/)
          .slice(1)
          .map((rest) => ({ file, args: rest.slice(0, rest.indexOf("})")) })),
      );
      assert.ok(puts.length > 0, "the blob store writes with PutObjectCommand");
      for (const { file, args } of puts)
        assert.match(args, /IfNoneMatch: "\*"/, `${file}: PutObject without If-None-Match`);
    });

    test("its policy denies every request not made over TLS (1.2+)", () => {
      storage.hasResourceProperties("AWS::S3::BucketPolicy", {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: "Deny",
              Action: "s3:*",
              Principal: { AWS: "*" },
              Condition: { Bool: { "aws:SecureTransport": "false" } },
            }),
            Match.objectLike({
              Effect: "Deny",
              Action: "s3:*",
              Condition: { NumericLessThan: { "s3:TlsVersion": 1.2 } },
            }),
          ]),
        },
      });
    });
  });

  describe("archive trail", () => {
    test("records every write under blobs/ in the archive bucket, and no management event", () => {
      const [trail] = Object.values(storage.findResources("AWS::CloudTrail::Trail"));
      assert.ok(trail, "one trail");
      assert.equal(trail.Properties.EnableLogFileValidation, true);
      assert.equal(trail.Properties.IsMultiRegionTrail, false);
      const selectors = trail.Properties.EventSelectors as Array<Record<string, unknown>>;
      assert.equal(selectors.length, 1);
      const [selector] = selectors;
      assert.equal(selector?.IncludeManagementEvents, false);
      assert.equal(selector?.ReadWriteType, "WriteOnly");
      const resources = selector?.DataResources as Array<{ Type: string; Values: unknown[] }>;
      assert.deepEqual(
        resources.map((r) => r.Type),
        ["AWS::S3::Object"],
      );
      const value = JSON.stringify(resources[0]?.Values);
      assert.ok(
        value.includes(JSON.stringify(synth.storage.resolve(synth.storage.bucket.bucket.bucketArn))),
        "the archive bucket",
      );
      assert.match(value, /\/blobs\/"/);
    });

    test("keeps its logs a year in a private, TLS-only bucket of its own, retained", () => {
      const logs = synth.storage.trail?.logBucket;
      assert.ok(logs);
      const bucket = storage.findResources("AWS::S3::Bucket")[logicalIdOf(logs)];
      assert.equal(bucket?.DeletionPolicy, "Retain");
      assert.deepEqual(bucket?.Properties.PublicAccessBlockConfiguration, {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      const rules = (bucket?.Properties.LifecycleConfiguration.Rules ?? []) as Array<{
        ExpirationInDays?: number;
      }>;
      assert.equal(rules[0]?.ExpirationInDays, 365);
      assert.notEqual(
        logicalIdOf(logs),
        logicalIdOf(synth.storage.bucket.bucket),
        "the trail never writes into the evidence bucket",
      );
    });
  });

  test("has no backup vault unless asked", () => {
    storage.resourceCountIs("AWS::Backup::BackupVault", 0);
  });

  describe("archive table", () => {
    test("is on-demand, point-in-time recoverable, deletion-protected and retained", () => {
      storage.hasResource("AWS::DynamoDB::Table", {
        DeletionPolicy: "Retain",
        Properties: Match.objectLike({
          BillingMode: "PAY_PER_REQUEST",
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          DeletionProtectionEnabled: true,
        }),
      });
    });

    test("has the keys and indexes of shared/adapters/table-schema.ts", () => {
      const tables = Object.values(storage.findResources("AWS::DynamoDB::Table"));
      assert.equal(tables.length, 1, "one table");
      const props = tables[0]?.Properties as {
        KeySchema: unknown;
        AttributeDefinitions: Array<{ AttributeName: string; AttributeType: string }>;
        GlobalSecondaryIndexes: Array<{ IndexName: string; KeySchema: unknown; Projection: unknown }>;
      };
      assert.deepEqual(props.KeySchema, [
        { AttributeName: TABLE_KEY.partitionKey, KeyType: "HASH" },
        { AttributeName: TABLE_KEY.sortKey, KeyType: "RANGE" },
      ]);
      const byName = new Map(props.GlobalSecondaryIndexes.map((gsi) => [gsi.IndexName, gsi]));
      assert.deepEqual([...byName.keys()].sort(), TABLE_INDEXES.map((i) => i.indexName).sort());
      for (const index of TABLE_INDEXES) {
        assert.deepEqual(byName.get(index.indexName)?.KeySchema, [
          { AttributeName: index.partitionKey, KeyType: "HASH" },
          { AttributeName: index.sortKey, KeyType: "RANGE" },
        ]);
        // The due index carries only what the sweeps read, so a claim rewrites a small entry.
        assert.deepEqual(
          byName.get(index.indexName)?.Projection,
          "include" in index
            ? { ProjectionType: "INCLUDE", NonKeyAttributes: [...index.include] }
            : { ProjectionType: "ALL" },
        );
      }
      assert.equal(
        (byName.get("GSI1")?.Projection as { ProjectionType?: string })?.ProjectionType,
        "INCLUDE",
        "the due index projects what the sweeper reads, not ALL",
      );
      const keyNames = [
        TABLE_KEY.partitionKey,
        TABLE_KEY.sortKey,
        ...TABLE_INDEXES.flatMap((i) => [i.partitionKey, i.sortKey]),
      ];
      assert.deepEqual(props.AttributeDefinitions.map((a) => a.AttributeName).sort(), [...keyNames].sort());
      assert.ok(
        props.AttributeDefinitions.every((a) => a.AttributeType === "S"),
        "string keys",
      );
    });
  });

  describe("capture queues", () => {
    /** The scheduled and the interactive queue: the two that redrive, with the same settings. */
    const laneQueues = () => {
      const queues = storage.findResources("AWS::SQS::Queue", {
        Properties: { RedrivePolicy: Match.anyValue() },
      });
      const ids = Object.keys(queues).sort();
      assert.deepEqual(
        ids,
        [logicalIdOf(synth.storage.queue.queue), logicalIdOf(synth.storage.queue.interactiveQueue)].sort(),
        "exactly the two capture queues redrive",
      );
      return ids.map((id) => queues[id]?.Properties);
    };

    test("both redrive to the one dead-letter queue after 3 receives", () => {
      const dlq = storage.findResources("AWS::SQS::Queue", { Properties: { RedrivePolicy: Match.absent() } });
      const [dlqId, ...others] = Object.keys(dlq);
      assert.ok(dlqId);
      assert.deepEqual(others, [], "one dead-letter queue for both");
      for (const queue of laneQueues()) {
        assert.deepEqual(queue?.RedrivePolicy, {
          deadLetterTargetArn: { "Fn::GetAtt": [dlqId, "Arn"] },
          maxReceiveCount: 3,
        });
        // The DLQ outlives the source queue's retention, or dead-lettered messages would expire at once.
        assert.ok(dlq[dlqId]?.Properties.MessageRetentionPeriod >= queue?.MessageRetentionPeriod);
      }
    });

    test("keep a waiting capture 14 days, as long as the sweep assumes before failing it expired", () => {
      for (const queue of laneQueues()) {
        assert.equal(queue?.MessageRetentionPeriod, 14 * 24 * 3600);
        assert.equal(queue?.MessageRetentionPeriod * 1000, CAPTURE_MESSAGE_RETENTION_MS);
      }
    });

    test("all three queues use SQS-managed encryption and deny non-TLS requests", () => {
      const queues = storage.findResources("AWS::SQS::Queue");
      assert.equal(Object.keys(queues).length, 3);
      for (const [id, queue] of Object.entries(queues)) {
        assert.equal(queue.Properties.SqsManagedSseEnabled, true, `${id} encrypted`);
        storage.hasResourceProperties("AWS::SQS::QueuePolicy", {
          Queues: [{ Ref: id }],
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
            ]),
          },
        });
      }
    });

    test("the dead-letter queue keeps messages 14 days and has no redrive of its own", () => {
      // Messages the dead-letter function fails on must wait there (and be retried), not move on.
      const dlq =
        storage.findResources("AWS::SQS::Queue")[logicalIdOf(synth.storage.queue.deadLetterQueue)]
          ?.Properties;
      assert.ok(dlq, "the DLQ is synthesized");
      assert.equal(dlq.MessageRetentionPeriod, 14 * 24 * 3600);
      assert.equal(dlq.RedrivePolicy, undefined);
      assert.ok(
        dlq.VisibilityTimeout >= 60,
        "failed dead letters are retried minutes apart, not in a tight loop",
      );
    });

    test("each hides a message for at least 6 × the capture function's timeout", () => {
      const capture =
        service.findResources("AWS::Lambda::Function")[logicalIdOf(synth.service.captureFunction)];
      const timeout = capture?.Properties.Timeout as number;
      assert.ok(timeout > 0);
      for (const queue of laneQueues()) {
        const visibility = queue?.VisibilityTimeout as number;
        assert.ok(visibility >= 6 * timeout, `visibility ${visibility} s vs timeout ${timeout} s`);
      }
    });
  });

  describe("edits event bus", () => {
    test("is a dedicated bus named after the stack", () => {
      storage.hasResourceProperties("AWS::Events::EventBus", { Name: "PalimpsestStorage-edits" });
      assert.equal(Object.keys(storage.findResources("AWS::Events::EventBus")).length, 1);
    });

    test("the event source and detail type match what the publisher sends", () => {
      assert.equal(EDIT_EVENT_SOURCE, EVENT_SOURCE);
      const detailType: ArticleEditedEvent["type"] = ARTICLE_EDITED_DETAIL_TYPE;
      assert.equal(detailType, "ArticleEdited");
    });

    test("archives every Palimpsest event on the bus for 30 days", () => {
      storage.hasResourceProperties("AWS::Events::Archive", {
        SourceArn: { "Fn::GetAtt": [logicalIdOf(synth.storage.editEvents.bus), "Arn"] },
        EventPattern: { source: [EDIT_EVENT_SOURCE] },
        RetentionDays: 30,
      });
    });

    test("its name and ARN are stack outputs", () => {
      const busId = logicalIdOf(synth.storage.editEvents.bus);
      storage.hasOutput("EditEventBusName", { Value: { Ref: busId } });
      storage.hasOutput("EditEventBusArn", { Value: { "Fn::GetAtt": [busId, "Arn"] } });
    });
  });
});
