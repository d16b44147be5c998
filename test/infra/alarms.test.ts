import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { before, describe, test } from "node:test";
import { isDeepStrictEqual } from "node:util";
import { Duration, Stack } from "aws-cdk-lib";
import { Annotations, Match, Template } from "aws-cdk-lib/assertions";
import { Alarm, Metric } from "aws-cdk-lib/aws-cloudwatch";
import type { IConstruct } from "constructs";
import { AccountConcurrencyAlarm } from "../../infra/constructs/account-concurrency-alarm.ts";
import { AlarmTopic } from "../../infra/constructs/alarm-topic.ts";
import { ArchiveBucket } from "../../infra/constructs/archive-bucket.ts";
import { ArchiveTable } from "../../infra/constructs/archive-table.ts";
import { CAPTURE_OUTCOME_METRIC, CaptureFunction } from "../../infra/constructs/capture-function.ts";
import { CaptureQueue } from "../../infra/constructs/capture-queue.ts";
import { REPO_ROOT } from "../../infra/constructs/defaults.ts";
import { INCOMPLETE_SWEEP_PATTERN } from "../../infra/constructs/sweeper-function.ts";
import { addPalimpsestStacks, readAppOptions } from "../../infra/palimpsest-app.ts";
import { TABLE_INDEXES } from "../../shared/adapters/table-schema.ts";
import { loadObservabilityConfig } from "../../shared/config.ts";
import { METRIC, METRICS_SERVICE } from "../../shared/metric-names.ts";
import { logicalIdOf, newApp, newStack, refersTo, synthPalimpsest } from "./synth.ts";

type Synth = ReturnType<typeof synthPalimpsest>;

const alarmsIn = (template: Template) =>
  Object.entries(template.findResources("AWS::CloudWatch::Alarm")) as Array<
    [string, { Properties: Record<string, unknown> & { AlarmDescription?: string } }]
  >;

/** The statements of the only resource policy of `type` in `template`. */
/** The policy of the one resource of `type`, or of the one with logical id `id` when the stack has several. */
function policyStatements(template: Template, type: string, key: string, id?: string) {
  const found = template.findResources(type);
  const resources = (id === undefined ? Object.values(found) : [found[id]].filter(Boolean)) as Array<{
    Properties: Record<string, { Statement: Array<Record<string, unknown>> }>;
  }>;
  assert.equal(resources.length, 1, `one ${type}`);
  return resources[0]?.Properties[key]?.Statement ?? [];
}

describe("alarms and the alarm topic", () => {
  let synth: Synth;
  let storage: Template;
  let service: Template;

  before(() => {
    synth = synthPalimpsest();
    storage = synth.storageTemplate;
    service = synth.serviceTemplate;
  });

  /**
   * A function's environment as Lambda gives it: the stack's variables (tokens left out: none is
   * about metrics) and AWS_LAMBDA_FUNCTION_NAME, which Lambda sets.
   */
  const lambdaEnvironmentOf = (fn: IConstruct): Record<string, string> => {
    const resource = service.toJSON().Resources?.[logicalIdOf(fn)] as
      | { Properties: { Environment?: { Variables?: Record<string, unknown> } } }
      | undefined;
    assert.ok(resource, `${fn.node.path} is in the service stack`);
    const variables = Object.entries(resource.Properties.Environment?.Variables ?? {});
    return {
      ...Object.fromEntries(
        variables.filter((entry): entry is [string, string] => typeof entry[1] === "string"),
      ),
      AWS_LAMBDA_FUNCTION_NAME: fn.node.id,
    };
  };

  /** The alarm topic's own key (the default topic has one). */
  const ownKey = () => {
    const key = synth.storage.alarmTopic.key;
    assert.ok(key, "the topic has its own key");
    return key;
  };

  /** Whether a value in either template is the alarm topic's ARN. */
  const isTopicArn = (value: unknown) =>
    refersTo(value, synth.storage, storage, synth.storage.alarmTopic.topic.topicArn);

  describe("the topic", () => {
    test("is one topic in the storage stack, encrypted with its own rotated KMS key", () => {
      const topics = Object.entries(storage.findResources("AWS::SNS::Topic"));
      assert.equal(topics.length, 1);
      assert.deepEqual(service.findResources("AWS::SNS::Topic"), {});
      const [topicId, topic] = topics[0] ?? [];
      assert.equal(topicId, logicalIdOf(synth.storage.alarmTopic.topic));
      const keyId = logicalIdOf(ownKey());
      // A key of its own, not alias/aws/sns: CloudWatch cannot use the AWS managed key.
      assert.deepEqual(topic?.Properties.KmsMasterKeyId, { "Fn::GetAtt": [keyId, "Arn"] });
      assert.equal(storage.findResources("AWS::KMS::Key")[keyId]?.Properties.EnableKeyRotation, true);
    });

    test("refuses requests not made over TLS", () => {
      const statements = policyStatements(storage, "AWS::SNS::TopicPolicy", "PolicyDocument");
      assert.ok(
        statements.some(
          (s) =>
            s.Effect === "Deny" &&
            s.Principal === "*" &&
            JSON.stringify(s.Condition) === JSON.stringify({ Bool: { "aws:SecureTransport": "false" } }),
        ),
      );
    });

    test("CloudWatch may publish and use the key only for alarms of this account and region", () => {
      const fromOwnAlarms = {
        StringEquals: { "aws:SourceAccount": { Ref: "AWS::AccountId" } },
        ArnLike: {
          "aws:SourceArn": {
            "Fn::Join": [
              "",
              [
                "arn:",
                { Ref: "AWS::Partition" },
                ":cloudwatch:",
                { Ref: "AWS::Region" },
                ":",
                { Ref: "AWS::AccountId" },
                ":alarm:*",
              ],
            ],
          },
        },
      };
      const cloudWatch = { Service: "cloudwatch.amazonaws.com" };
      const publish = policyStatements(storage, "AWS::SNS::TopicPolicy", "PolicyDocument").filter(
        (s) => s.Effect === "Allow",
      );
      assert.deepEqual(publish, [
        {
          Sid: "AllowCloudWatchAlarmsToPublish",
          Effect: "Allow",
          Principal: cloudWatch,
          Action: "sns:Publish",
          Resource: { Ref: logicalIdOf(synth.storage.alarmTopic.topic) },
          Condition: fromOwnAlarms,
        },
      ]);
      // The storage stack also holds the evidence signing key; this is the topic's own key.
      const keyUse = policyStatements(storage, "AWS::KMS::Key", "KeyPolicy", logicalIdOf(ownKey())).filter(
        (s) => isDeepStrictEqual(s.Principal, cloudWatch),
      );
      assert.deepEqual(keyUse, [
        {
          Sid: "AllowCloudWatchAlarmsToPublish",
          Effect: "Allow",
          Principal: cloudWatch,
          Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
          Resource: "*",
          Condition: fromOwnAlarms,
        },
      ]);
    });

    test("its ARN is a storage stack output", () => {
      storage.hasOutput("AlarmTopicArn", {
        Value: { Ref: logicalIdOf(synth.storage.alarmTopic.topic) },
        Description: Match.stringLikeRegexp("subscribe"),
      });
    });

    test("has no subscription unless emails are configured", () => {
      assert.deepEqual(storage.findResources("AWS::SNS::Subscription"), {});
      assert.deepEqual(service.findResources("AWS::SNS::Subscription"), {});
    });

    test("subscribes each configured email address", () => {
      const configured = synthPalimpsest({ alarmEmails: ["ops@example.org", "oncall@example.net"] });
      const subscriptions = Object.values(configured.storageTemplate.findResources("AWS::SNS::Subscription"));
      assert.deepEqual(
        subscriptions.map((s) => s.Properties),
        ["ops@example.org", "oncall@example.net"].map((endpoint) => ({
          Protocol: "email",
          Endpoint: endpoint,
          TopicArn: { Ref: logicalIdOf(configured.storage.alarmTopic.topic) },
        })),
      );
    });
  });

  describe("context alarmEmail", () => {
    test("takes one address, or several separated by commas", () => {
      assert.deepEqual(readAppOptions(newApp({ context: { alarmEmail: "ops@example.org" } })), {
        alarmEmails: ["ops@example.org"],
      });
      assert.deepEqual(
        readAppOptions(newApp({ context: { alarmEmail: "ops@example.org, oncall@example.net" } })),
        { alarmEmails: ["ops@example.org", "oncall@example.net"] },
      );
      assert.deepEqual(readAppOptions(newApp({ context: { alarmEmail: ["ops@example.org"] } })), {
        alarmEmails: ["ops@example.org"],
      });
    });

    test("refuses what is not an email address", () => {
      for (const alarmEmail of ["ops", "ops@example", "ops@example.org,", "a b@example.org", 42, [1]]) {
        assert.throws(
          () => readAppOptions(newApp({ context: { alarmEmail } })),
          /alarmEmail/,
          JSON.stringify(alarmEmail),
        );
      }
    });

    test("the topic refuses a malformed or repeated address given as a prop", () => {
      assert.throws(() => new AlarmTopic(newStack(), "T", { emails: ["nope"] }), /email address/);
      assert.throws(
        () => new AlarmTopic(newStack(), "T", { emails: ["ops@example.org", "ops@example.org"] }),
        /listed twice/,
      );
    });
  });

  describe("wiring", () => {
    test("every alarm of both stacks notifies the topic when it fires and when it recovers", () => {
      const alarms = [...alarmsIn(storage), ...alarmsIn(service)];
      assert.ok(alarms.length > 0);
      for (const [id, alarm] of alarms) {
        for (const key of ["AlarmActions", "OKActions"]) {
          const actions = alarm.Properties[key] as unknown[] | undefined;
          assert.equal(actions?.length, 1, `${id} ${key}`);
          assert.ok(isTopicArn(actions?.[0]), `${id} ${key} is the alarm topic`);
        }
        assert.equal(alarm.Properties.ActionsEnabled ?? true, true, id);
      }
    });

    test("the alarms are the ones the constructs expose, each saying what broke and what to check", () => {
      const s = synth.service;
      const exposed = [
        s.apiFunction.throttledAlarm,
        s.captureFunction.throttledAlarm,
        s.captureFunction.crashingAlarm,
        s.captureFunction.backlogAlarm,
        s.captureFunction.interactiveBacklogAlarm,
        s.deadLetterFunction.throttledAlarm,
        s.deadLetterFunction.backlogAlarm,
        s.sweeperFunction.throttledAlarm,
        s.sweeperFunction.failingAlarm,
        s.pollFunction.throttledAlarm,
        s.pollFunction.deadLetteredAlarm,
        // The replay origin's: its public function is capped at its reserved concurrency, so a
        // flood shows here; the CORS function runs only while deploying.
        s.replayOrigin.fn.throttledAlarm,
        s.replayOrigin.bucketCorsFunction.throttledAlarm,
        s.sweepSchedule.undeliveredAlarm,
        s.api.serverErrorsAlarm,
        s.captureFunction.failureRateAlarm,
        s.captureFunction.durationAlarm,
        s.sweeperFunction.incompleteAlarm,
        s.sweeperFunction.heldAlarm,
        s.accountConcurrencyAlarm.alarm,
      ].map(logicalIdOf);
      assert.deepEqual(
        alarmsIn(service)
          .map(([id]) => id)
          .sort(),
        [...exposed].sort(),
      );
      for (const [id, alarm] of alarmsIn(service)) {
        assert.ok((alarm.Properties.AlarmDescription ?? "").length >= 150, `${id} explains itself`);
        assert.match(alarm.Properties.AlarmDescription ?? "", /Check|Raise|logs/, `${id} says what to do`);
      }
    });

    test("the storage stack's alarms are the table's and each index's throttling, each explained", () => {
      const throttles = synth.storage.table.throttleAlarms;
      assert.deepEqual(
        [...throttles.keys()].sort(),
        ["table", ...TABLE_INDEXES.map((i) => i.indexName)].sort(),
      );
      assert.deepEqual(
        alarmsIn(storage)
          .map(([id]) => id)
          .sort(),
        [...throttles.values()].map(logicalIdOf).sort(),
      );
      for (const [id, alarm] of alarmsIn(storage)) {
        assert.ok((alarm.Properties.AlarmDescription ?? "").length >= 150, `${id} explains itself`);
        assert.match(alarm.Properties.AlarmDescription ?? "", /Check/, `${id} says what to do`);
      }
    });

    test("an existing topic can take the alarms instead (app context alarmTopicArn)", () => {
      const topicArn = "arn:aws:sns:eu-west-1:123456789012:ops-alarms";
      const app = newApp({ context: { alarmTopicArn: topicArn } });
      const stacks = addPalimpsestStacks(app, { ...readAppOptions(app), bundling: false });
      const storageTemplate = Template.fromStack(stacks.storage);
      storageTemplate.resourceCountIs("AWS::SNS::Topic", 0);
      assert.equal(stacks.storage.alarmTopic.key, undefined);
      const alarms = [...alarmsIn(storageTemplate), ...alarmsIn(Template.fromStack(stacks.service))];
      assert.ok(alarms.length > 10);
      for (const [id, alarm] of alarms) {
        assert.deepEqual(alarm.Properties.AlarmActions, [topicArn], id);
        assert.deepEqual(alarm.Properties.OKActions, [topicArn], id);
      }
      assert.throws(
        () => readAppOptions(newApp({ context: { alarmTopicArn: "ops-alarms" } })),
        /alarmTopicArn/,
      );
      assert.throws(
        () => new AlarmTopic(newStack(), "T", { topicArn: "arn:aws:sqs:eu-west-1:123456789012:ops" }),
        /topicArn must be an SNS topic ARN/,
      );
    });

    test("an alarm added to a stack after it was built is wired too", () => {
      const app = newApp();
      const { storage: storageStack, service: serviceStack } = addPalimpsestStacks(app, { bundling: false });
      const metric = new Metric({ namespace: "Palimpsest/Test", metricName: "Anything" });
      const late = new Alarm(serviceStack, "LateAlarm", { metric, threshold: 1, evaluationPeriods: 1 });
      const own = new Alarm(storageStack, "StorageAlarm", { metric, threshold: 1, evaluationPeriods: 1 });
      const storageTemplate = Template.fromStack(storageStack);
      const topicArn = storageStack.alarmTopic.topic.topicArn;
      const lateProps =
        Template.fromStack(serviceStack).findResources("AWS::CloudWatch::Alarm")[logicalIdOf(late)]
          ?.Properties;
      assert.ok(refersTo(lateProps.AlarmActions[0], storageStack, storageTemplate, topicArn));
      assert.ok(refersTo(lateProps.OKActions[0], storageStack, storageTemplate, topicArn));
      const ownProps = storageTemplate.findResources("AWS::CloudWatch::Alarm")[logicalIdOf(own)]?.Properties;
      assert.deepEqual(ownProps.AlarmActions, [{ Ref: logicalIdOf(storageStack.alarmTopic.topic) }]);
      assert.deepEqual(ownProps.OKActions, [{ Ref: logicalIdOf(storageStack.alarmTopic.topic) }]);
    });
  });

  describe("what is watched", () => {
    const alarmOf = (alarm: Alarm) => {
      const props = service.findResources("AWS::CloudWatch::Alarm")[logicalIdOf(alarm)]?.Properties;
      assert.ok(props, `${alarm.node.path} synthesized`);
      return props;
    };

    test("each function's throttles, sustained for 15 minutes", () => {
      for (const fn of [
        synth.service.apiFunction,
        synth.service.captureFunction,
        synth.service.deadLetterFunction,
        synth.service.sweeperFunction,
      ]) {
        const alarm = alarmOf(fn.throttledAlarm);
        assert.equal(alarm.Namespace, "AWS/Lambda");
        assert.equal(alarm.MetricName, "Throttles");
        assert.deepEqual(alarm.Dimensions, [{ Name: "FunctionName", Value: { Ref: logicalIdOf(fn) } }]);
        assert.equal(alarm.Statistic, "Sum");
        assert.equal(alarm.Threshold, 1);
        assert.equal(alarm.EvaluationPeriods * alarm.Period, 15 * 60);
        assert.equal(alarm.DatapointsToAlarm, alarm.EvaluationPeriods);
        assert.equal(alarm.TreatMissingData, "notBreaching");
      }
    });

    test("capture crashes: 10% of invocations or more for 15 minutes", () => {
      const alarm = alarmOf(synth.service.captureFunction.crashingAlarm);
      assert.equal(alarm.Threshold, 10);
      assert.equal(alarm.ComparisonOperator, "GreaterThanOrEqualToThreshold");
      assert.equal(alarm.EvaluationPeriods, 3);
      assert.equal(alarm.DatapointsToAlarm, 3);
      const metrics = alarm.Metrics as Array<{
        Id: string;
        Expression?: string;
        MetricStat?: { Metric: { MetricName: string; Dimensions: unknown[] }; Period: number; Stat: string };
      }>;
      const expression = metrics.find((m) => m.Expression);
      assert.match(expression?.Expression ?? "", /100 \* errors \/ invocations/);
      for (const [id, name] of [
        ["errors", "Errors"],
        ["invocations", "Invocations"],
      ]) {
        const stat = metrics.find((m) => m.Id === id)?.MetricStat;
        assert.equal(stat?.Metric.MetricName, name);
        assert.deepEqual(stat?.Metric.Dimensions, [
          { Name: "FunctionName", Value: { Ref: logicalIdOf(synth.service.captureFunction) } },
        ]);
        assert.equal(stat?.Period, 300);
        assert.equal(stat?.Stat, "Sum");
      }
    });

    test("capture backlog: the oldest waiting capture of either capture queue is an hour old", () => {
      const lanes = [
        [synth.service.captureFunction.backlogAlarm, synth.storage.queue.queue],
        [synth.service.captureFunction.interactiveBacklogAlarm, synth.storage.queue.interactiveQueue],
      ] as const;
      for (const [backlogAlarm, queue] of lanes) {
        const alarm = alarmOf(backlogAlarm);
        assert.equal(alarm.Namespace, "AWS/SQS");
        assert.equal(alarm.MetricName, "ApproximateAgeOfOldestMessage");
        assert.equal(alarm.Statistic, "Maximum");
        assert.equal(alarm.Threshold, 3600);
        assert.equal(alarm.TreatMissingData, "notBreaching");
        const [dimension] = alarm.Dimensions as Array<{ Name: string; Value: unknown }>;
        assert.equal(dimension?.Name, "QueueName");
        assert.ok(refersTo(dimension?.Value, synth.storage, storage, queue.queueName), queue.node.id);
        // Retried captures legitimately get this old; the alarm must sit above them.
        const retriedAgeSeconds =
          (synth.storage.queue.maxReceiveCount - 1) * synth.storage.queue.visibilityTimeout.toSeconds();
        assert.ok(alarm.Threshold > retriedAgeSeconds);
      }
    });

    test("API: 5% of the stage's requests answered 5xx for 15 minutes", () => {
      const alarm = alarmOf(synth.service.api.serverErrorsAlarm);
      assert.equal(alarm.Namespace, "AWS/ApiGateway");
      assert.equal(alarm.MetricName, "5XXError");
      assert.equal(alarm.Statistic, "Average");
      assert.equal(alarm.Threshold, 0.05);
      assert.equal(alarm.EvaluationPeriods * alarm.Period, 15 * 60);
      const dimensions = alarm.Dimensions as Array<{ Name: string; Value: unknown }>;
      assert.deepEqual(dimensions.map((d) => d.Name).sort(), ["ApiName", "Stage"]);
      const stage = dimensions.find((d) => d.Name === "Stage")?.Value;
      assert.deepEqual(stage, { Ref: logicalIdOf(synth.service.api.api.deploymentStage) });
    });

    type MetricQuery = {
      Id: string;
      Expression?: string;
      MetricStat?: {
        Metric: {
          Namespace: string;
          MetricName: string;
          Dimensions?: Array<{ Name: string; Value: unknown }>;
        };
        Period: number;
        Stat: string;
      };
    };

    test("DynamoDB: read or write throttling of the table or of any index, sustained for 15 minutes", () => {
      const tableName = synth.storage.table.table.tableName;
      for (const [target, alarm] of synth.storage.table.throttleAlarms) {
        const props = storage.findResources("AWS::CloudWatch::Alarm")[logicalIdOf(alarm)]?.Properties;
        assert.equal(props.Threshold, 1);
        assert.equal(props.EvaluationPeriods, 3);
        assert.equal(props.DatapointsToAlarm, 3);
        assert.equal(props.TreatMissingData, "notBreaching");
        const queries = props.Metrics as MetricQuery[];
        assert.equal(queries.find((q) => q.Expression)?.Expression, "reads + writes");
        const stats = queries.flatMap((q) => (q.MetricStat ? [q.MetricStat] : []));
        assert.deepEqual(stats.map((m) => m.Metric.MetricName).sort(), [
          "ReadThrottleEvents",
          "WriteThrottleEvents",
        ]);
        for (const stat of stats) {
          assert.equal(stat.Metric.Namespace, "AWS/DynamoDB");
          assert.equal(stat.Stat, "Sum");
          const dimensions = Object.fromEntries((stat.Metric.Dimensions ?? []).map((d) => [d.Name, d.Value]));
          assert.deepEqual(dimensions.TableName, synth.storage.resolve(tableName));
          assert.equal(dimensions.GlobalSecondaryIndexName, target === "table" ? undefined : target, target);
        }
      }
    });

    test("capture failures: 20% of the captures that ended, for 15 minutes, from the handler's metric", () => {
      const alarm = alarmOf(synth.service.captureFunction.failureRateAlarm);
      assert.equal(alarm.Threshold, 20);
      assert.equal(alarm.EvaluationPeriods, 3);
      assert.equal(alarm.DatapointsToAlarm, 3);
      const queries = alarm.Metrics as MetricQuery[];
      assert.equal(
        queries.find((q) => q.Expression)?.Expression,
        "IF((changed + unchanged + failed) >= 5, 100 * failed / (changed + unchanged + failed), 0)",
      );
      for (const outcome of ["changed", "unchanged", "failed"]) {
        const stat = queries.find((q) => q.Id === outcome)?.MetricStat;
        assert.equal(stat?.Metric.Namespace, "Palimpsest");
        assert.equal(stat?.Metric.MetricName, "Captures");
        assert.deepEqual(
          stat?.Metric.Dimensions?.sort((a, b) => a.Name.localeCompare(b.Name)),
          [
            { Name: "outcome", Value: outcome },
            { Name: "service", Value: "palimpsest" },
          ],
        );
        assert.equal(stat?.Stat, "Sum");
      }
    });

    test("the failure-rate alarm reads the metric the handler writes, where the functions write it", () => {
      assert.equal(METRICS_SERVICE, CAPTURE_OUTCOME_METRIC.service);
      assert.equal(METRIC.captures, CAPTURE_OUTCOME_METRIC.metricName);
      // The namespace the capture function writes, as its config reads it from the environment the
      // stack gives it, is the one the alarm reads.
      const written = loadObservabilityConfig(
        lambdaEnvironmentOf(synth.service.captureFunction),
      ).metricsNamespace;
      const queries = alarmOf(synth.service.captureFunction.failureRateAlarm).Metrics as MetricQuery[];
      const read = queries.flatMap((q) => (q.MetricStat ? [q.MetricStat.Metric.Namespace] : []));
      assert.equal(read.length, 3);
      for (const namespace of read) assert.equal(namespace, written);
    });

    test("the incomplete-sweeps filter writes where the sweeper's own metrics go", () => {
      const written = loadObservabilityConfig(
        lambdaEnvironmentOf(synth.service.sweeperFunction),
      ).metricsNamespace;
      const filters = Object.values(service.findResources("AWS::Logs::MetricFilter"));
      const namespaces = filters.flatMap((f) =>
        (f.Properties.MetricTransformations as Array<{ MetricNamespace: string }>).map(
          (t) => t.MetricNamespace,
        ),
      );
      assert.ok(namespaces.length > 0, "the service stack has metric filters");
      for (const namespace of namespaces) assert.equal(namespace, written);
    });

    test("capture duration: the slowest 1% past 80% of the timeout for 15 minutes", () => {
      const alarm = alarmOf(synth.service.captureFunction.durationAlarm);
      assert.equal(alarm.MetricName, "Duration");
      assert.equal(alarm.Namespace, "AWS/Lambda");
      assert.equal(alarm.ExtendedStatistic, "p99");
      assert.equal(alarm.Threshold, 0.8 * 180_000);
      assert.equal(alarm.EvaluationPeriods, 3);
      assert.deepEqual(alarm.Dimensions, [
        { Name: "FunctionName", Value: { Ref: logicalIdOf(synth.service.captureFunction) } },
      ]);
    });

    test("incomplete sweeps: a filter on the sweeper's log counts them, three in a row alarm", () => {
      const sweeper = synth.service.sweeperFunction;
      const filters = Object.values(service.findResources("AWS::Logs::MetricFilter"));
      const filter = filters.find((f) =>
        isDeepStrictEqual(f.Properties.LogGroupName, { Ref: logicalIdOf(sweeper.logs) }),
      );
      assert.ok(filter, "a metric filter on the sweeper's log group");
      assert.equal(filter.Properties.FilterPattern, INCOMPLETE_SWEEP_PATTERN);
      assert.deepEqual(filter.Properties.MetricTransformations, [
        { MetricNamespace: "Palimpsest", MetricName: "IncompleteSweeps", MetricValue: "1" },
      ]);
      const alarm = alarmOf(sweeper.incompleteAlarm);
      assert.equal(alarm.MetricName, "IncompleteSweeps");
      assert.equal(alarm.Namespace, "Palimpsest");
      assert.equal(alarm.Statistic, "Sum");
      assert.equal(alarm.EvaluationPeriods, 3);
      assert.equal(alarm.DatapointsToAlarm, 3);
      // The pattern matches the sweep's own summary line: its message and its `complete` field.
      const sweep = readFileSync(path.join(REPO_ROOT, "shared/domain/sweep.ts"), "utf8");
      assert.match(sweep, /logger\.info\("sweep finished", \{ \.\.\.result/);
      assert.match(sweep, /complete: boolean;/);
    });

    test("held sweeps: every sweep held by back-pressure for an hour, on the metric the handler writes", () => {
      const alarm = alarmOf(synth.service.sweeperFunction.heldAlarm);
      assert.equal(alarm.Namespace, "Palimpsest");
      assert.equal(alarm.MetricName, METRIC.sweepHeld);
      assert.deepEqual(alarm.Dimensions, [{ Name: "service", Value: METRICS_SERVICE }]);
      assert.equal(alarm.Statistic, "Minimum");
      assert.equal(alarm.Threshold, 1);
      assert.equal(alarm.Period, 300);
      assert.equal(alarm.EvaluationPeriods, 12);
      assert.equal(alarm.DatapointsToAlarm, 12);
      assert.equal(alarm.TreatMissingData, "notBreaching");
    });

    test("account concurrency: 80% of the quota claimed for 15 minutes; the quota is a prop", () => {
      const alarm = alarmOf(synth.service.accountConcurrencyAlarm.alarm);
      assert.equal(alarm.Namespace, "AWS/Lambda");
      assert.equal(alarm.MetricName, "ClaimedAccountConcurrency");
      assert.equal(alarm.Dimensions, undefined, "account-wide");
      assert.equal(alarm.Statistic, "Maximum");
      assert.equal(alarm.Threshold, 800);
      const raised = new AccountConcurrencyAlarm(newStack(), "A", { quota: 5_000, thresholdPercent: 90 });
      const props = Template.fromStack(Stack.of(raised)).findResources("AWS::CloudWatch::Alarm")[
        logicalIdOf(raised.alarm)
      ]?.Properties;
      assert.equal(props.Threshold, 4_500);
      for (const bad of [
        { quota: 0 },
        { quota: 1.5e3 + 0.5 },
        { thresholdPercent: 0 },
        { thresholdPercent: 120 },
      ]) {
        assert.throws(() => new AccountConcurrencyAlarm(newStack(), "B", bad), /AccountConcurrencyAlarm/);
      }
    });

    test("the capture backlog alarm's age is validated, and warns below the retry age", () => {
      const stack = newStack();
      const storageIn = (s: Stack) => ({
        table: new ArchiveTable(s, "Table"),
        bucket: new ArchiveBucket(s, "Bucket"),
        queue: new CaptureQueue(s, "Queue"),
        bundling: false,
      });
      const bound = storageIn(stack);
      for (const backlogAlarmAfter of [Duration.minutes(4), Duration.seconds(330), Duration.days(15)]) {
        assert.throws(
          () =>
            new CaptureFunction(stack, `C${backlogAlarmAfter.toSeconds()}`, { ...bound, backlogAlarmAfter }),
          /backlogAlarmAfter/,
        );
      }
      const capture = new CaptureFunction(stack, "Capture", {
        ...bound,
        backlogAlarmAfter: Duration.minutes(20),
      });
      Annotations.fromStack(Stack.of(capture)).hasWarning(
        `/${capture.node.path}`,
        Match.stringLikeRegexp("fire on ordinary retries"),
      );
    });
  });
});
