/**
 * Following outlets on AWS: the poll queue and the poll function (no Chromium), what each may do,
 * and the props that cannot work refused at synth.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { Duration } from "aws-cdk-lib";
import type { Template } from "aws-cdk-lib/assertions";
import { ArchiveTable } from "../../infra/constructs/archive-table.ts";
import { CaptureQueue } from "../../infra/constructs/capture-queue.ts";
import { PollFunction } from "../../infra/constructs/poll-function.ts";
import { PollQueue } from "../../infra/constructs/poll-queue.ts";
import { ENV } from "../../shared/env-names.ts";
import { allowedActions, logicalIdOf, newStack, refersTo, statementsOf, synthPalimpsest } from "./synth.ts";

type Synth = ReturnType<typeof synthPalimpsest>;

describe("sources on AWS", () => {
  let synth: Synth;
  let service: Template;
  before(() => {
    synth = synthPalimpsest();
    service = synth.serviceTemplate;
  });

  const functionProps = (id: string) => {
    const props = service.findResources("AWS::Lambda::Function")[id]?.Properties;
    assert.ok(props, `${id} synthesized`);
    return props;
  };
  const pollQueueArn = () => ({ "Fn::GetAtt": [logicalIdOf(synth.service.pollQueue.queue), "Arn"] });

  test("the poll queue is encrypted, TLS only, and dead-letters a job after 3 failed deliveries", () => {
    const queues = service.findResources("AWS::SQS::Queue");
    const queue = queues[logicalIdOf(synth.service.pollQueue.queue)]?.Properties;
    const dlqId = logicalIdOf(synth.service.pollQueue.deadLetterQueue);
    assert.ok(queue);
    assert.equal(queue.SqsManagedSseEnabled, true);
    assert.equal(queues[dlqId]?.Properties.SqsManagedSseEnabled, true);
    assert.deepEqual(queue.RedrivePolicy, {
      deadLetterTargetArn: { "Fn::GetAtt": [dlqId, "Arn"] },
      maxReceiveCount: 3,
    });
    assert.equal(
      queue.MessageRetentionPeriod,
      24 * 3600,
      "a day-old poll job is stale: the source came due again",
    );
    for (const id of [logicalIdOf(synth.service.pollQueue.queue), dlqId]) {
      const policies = Object.values(service.findResources("AWS::SQS::QueuePolicy")).filter((p) =>
        JSON.stringify(p.Properties.Queues).includes(id),
      );
      assert.ok(
        policies.some((p) =>
          JSON.stringify(p.Properties.PolicyDocument).includes('"aws:SecureTransport":"false"'),
        ),
        `${id} refuses plain HTTP`,
      );
    }
    const timeout = functionProps(logicalIdOf(synth.service.pollFunction)).Timeout as number;
    assert.ok(queue.VisibilityTimeout >= 6 * timeout, "visibility ≥ 6 × the poll function's timeout");
  });

  test("the poll function is small, has no browser, and consumes the poll queue one job at a time", () => {
    const props = functionProps(logicalIdOf(synth.service.pollFunction));
    assert.equal(props.MemorySize, 1024);
    assert.equal(props.Timeout, 240);
    assert.equal(props.Runtime, "nodejs24.x");
    const env = props.Environment.Variables as Record<string, unknown>;
    for (const name of [ENV.tableName, ENV.queueUrl]) assert.ok(env[name], name);
    assert.equal(env[ENV.pollQueueUrl], undefined, "it never sends to its own queue");
    assert.equal(env[ENV.allowPrivateHosts], "", "no private destination on AWS");
    assert.equal(env[ENV.bucketName], undefined, "no bucket");
    const mappings = Object.values(service.findResources("AWS::Lambda::EventSourceMapping")).filter((m) =>
      JSON.stringify(m.Properties.FunctionName).includes(logicalIdOf(synth.service.pollFunction)),
    );
    assert.equal(mappings.length, 1);
    const mapping = mappings[0]?.Properties;
    assert.deepEqual(mapping.EventSourceArn, pollQueueArn());
    assert.equal(mapping.BatchSize, 1);
    assert.deepEqual(mapping.FunctionResponseTypes, ["ReportBatchItemFailures"]);
    assert.equal(mapping.ScalingConfig.MaximumConcurrency, 5);
  });

  test("the poll function reads and writes the table and sends captures, never polls: no S3, no events", () => {
    const actions = allowedActions(service, synth.service.pollFunction);
    for (const denied of [
      "s3:GetObject",
      "s3:PutObject",
      "events:PutEvents",
      "sqs:PurgeQueue",
      "dynamodb:Scan",
    ]) {
      assert.ok(!actions.has(denied), `the poll function must not have ${denied}`);
    }
    assert.ok(actions.has("dynamodb:PutItem") && actions.has("dynamodb:Query"));
    const sqs = statementsOf(service, synth.service.pollFunction).filter((s) =>
      s.actions.some((a) => a.startsWith("sqs:")),
    );
    const onPollQueue = sqs.filter((s) => JSON.stringify(s.resources) === JSON.stringify([pollQueueArn()]));
    const elsewhere = sqs.filter((s) => !onPollQueue.includes(s));
    assert.ok(
      !onPollQueue.some((s) => s.actions.includes("sqs:SendMessage")),
      "a busy host's poll goes back on its source's schedule, never round its own trigger",
    );
    assert.ok(
      onPollQueue.some((s) => s.actions.includes("sqs:ReceiveMessage")),
      "it consumes the poll queue",
    );
    assert.ok(elsewhere.length > 0, "it sends captures");
    for (const statement of elsewhere) {
      assert.equal(statement.resources.length, 1);
      assert.deepEqual([...statement.actions].sort(), ["sqs:GetQueueAttributes", "sqs:SendMessage"]);
      // The articles a poll finds are scheduled work: never in front of a person's capture.
      assert.ok(
        refersTo(
          statement.resources[0],
          synth.storage,
          synth.storageTemplate,
          synth.storage.queue.queue.queueArn,
        ),
        "the scheduled capture queue only",
      );
    }
    const env = functionProps(logicalIdOf(synth.service.pollFunction)).Environment.Variables;
    assert.equal(env[ENV.interactiveQueueUrl], undefined, "no way to the interactive queue");
  });

  test("the API function turns the sources forms off: API Gateway holds the keys it could not check", () => {
    const env = functionProps(logicalIdOf(synth.service.apiFunction)).Environment.Variables;
    assert.equal(env[ENV.sourceForms], "off");
    assert.ok(env[ENV.pollQueueUrl], "a followed source's first poll is queued at once");
  });

  test("the sweeper may enqueue poll jobs", () => {
    const env = functionProps(logicalIdOf(synth.service.sweeperFunction)).Environment.Variables;
    assert.ok(env[ENV.pollQueueUrl]);
  });

  test("impossible props throw at synth", () => {
    assert.throws(() => new PollQueue(newStack(), "Q", { maxReceiveCount: 0 }), /maxReceiveCount/);
    const stack = newStack();
    const pollQueue = new PollQueue(stack, "Q", { consumerTimeout: Duration.seconds(20) });
    const bound = {
      table: new ArchiveTable(stack, "T"),
      captureQueue: new CaptureQueue(stack, "C"),
      pollQueue,
      bundling: false,
    };
    assert.throws(
      () => new PollFunction(stack, "Slow", { ...bound, timeout: Duration.minutes(3) }),
      /visibility timeout/,
    );
    assert.throws(
      () => new PollFunction(stack, "One", { ...bound, timeout: Duration.seconds(20), maxConcurrency: 1 }),
      /maxConcurrency/,
    );
  });
});
