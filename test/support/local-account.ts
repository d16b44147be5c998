/**
 * Stand-ins, on loopback, for the resources the synthesized templates create, each speaking the
 * real service's protocol to the real AWS SDK: the archive table in dynalite (created with the
 * schema helper the local runner uses), the bucket in s3rver, and the queues (with their redrive
 * policies), the event bus and the KMS keys in moto_server. `ref`/`getAtt` answer for them, so a function's
 * environment can be read from its template and resolved the way CloudFormation would.
 *
 * Also plays the Lambda service's SQS event source mapping: receive a batch, invoke, delete what
 * the function did not report as failed.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateEventBusCommand, EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { CreateKeyCommand, type KeySpec, type KeyUsageType, KMSClient } from "@aws-sdk/client-kms";
import { S3Client } from "@aws-sdk/client-s3";
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { ensureArchiveTable, startEmbeddedDynamo } from "../../local/embedded-dynamodb.ts";
import { startEmbeddedS3 } from "../../local/embedded-s3.ts";
import type { InvocationOutcome, LambdaContainer } from "./lambda-container.ts";
import {
  LOCAL_ACCOUNT,
  LOCAL_REGION,
  type PhysicalResources,
  type ShippedApp,
  type ShippedFunction,
} from "./shipped-app.ts";

/** s3rver accepts only its own key pair; dynalite and moto accept any. */
const CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER", sessionToken: "local-session-token" };
/** Generous: under load (2 cores shared by a full test run) python takes long to import moto. */
const MOTO_START_TIMEOUT_MS = 90_000;

/**
 * Why the suites that need moto_server must be skipped here: only when it is not installed (not on
 * PATH). Running it to ask once made a slow start under load (python imports moto at `--help` too)
 * skip those suites in CI as if moto were missing; an installed moto that cannot start now fails
 * them with its own output instead.
 */
export function motoServerUnavailable(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dirs = (env.PATH ?? "").split(path.delimiter).filter((dir) => dir !== "");
  for (const dir of dirs) {
    try {
      accessSync(path.join(dir, "moto_server"), constants.X_OK);
      return undefined;
    } catch {
      // not in this directory
    }
  }
  return `moto_server is not installed (not on PATH: ${dirs.join(path.delimiter) || "empty"}); pip install 'moto[server]'`;
}

export interface MotoServer {
  endpoint: string;
  close(): Promise<void>;
}

/** moto_server on an ephemeral loopback port (it prints the one it bound). */
export async function startMotoServer(): Promise<MotoServer> {
  const child: ChildProcess = spawn("moto_server", ["-H", "127.0.0.1", "-p", "0"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`moto_server did not start within ${MOTO_START_TIMEOUT_MS} ms:\n${output}`));
    }, MOTO_START_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      output = (output + chunk.toString("utf8")).slice(-20_000);
      const match = /Running on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`moto_server exited (${signal ?? code}) before listening:\n${output}`));
    });
  });
  return {
    endpoint,
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const done = await Promise.race([
        exited.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), 5_000)),
      ]);
      if (!done) {
        child.kill("SIGKILL");
        await exited;
      }
    },
  };
}

interface StandIn {
  ref: string;
  attributes: Record<string, string>;
}

export interface LocalAccount extends PhysicalResources {
  s3Endpoint: string;
  dynamodbEndpoint: string;
  motoEndpoint: string;
  s3: S3Client;
  sqs: SQSClient;
  events: EventBridgeClient;
  /** The table's and bucket's stand-in names. */
  tableName: string;
  bucketName: string;
  /**
   * What every function's environment gets on top of its template's variables: region and
   * credentials (which Lambda sets from the execution role) and the endpoints of the stand-ins.
   */
  runtimeEnvironment(): Record<string, string>;
  /** The function's synthesized environment with every reference resolved to a stand-in. */
  resolvedEnvironment(fn: ShippedFunction): Record<string, string>;
  /** The URL of the queue whose ARN is `arn`. */
  queueUrl(arn: string): string;
  /**
   * One poll of the function's SQS event sources, as the Lambda service does it: receives up to a
   * source's batch size, invokes, and deletes the messages the function did not report as failed.
   * Each source is polled in turn (the capture function has two queues) until one has messages;
   * undefined when none arrived within `waitSeconds` on any.
   */
  deliver(
    fn: ShippedFunction,
    container: LambdaContainer,
    waitSeconds?: number,
  ): Promise<{ event: SQSEvent; outcome: InvocationOutcome } | undefined>;
  close(): Promise<void>;
}

/** Starts the stand-ins and creates in them every table, bucket, queue and event bus of the app. */
export async function startLocalAccount(app: ShippedApp): Promise<LocalAccount> {
  const cleanups: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  };
  try {
    return await provision(app, cleanups, close);
  } catch (err) {
    await close();
    throw err;
  }
}

async function provision(
  app: ShippedApp,
  cleanups: Array<() => Promise<void>>,
  close: () => Promise<void>,
): Promise<LocalAccount> {
  const standIns = new Map<string, StandIn>();
  const byType = (type: string) =>
    [...app.templates].flatMap(([stackName, template]) =>
      Object.entries(template.Resources)
        .filter(([, resource]) => resource.Type === type)
        .map(([logicalId, resource]) => ({ stackName, logicalId, props: resource.Properties ?? {} })),
    );
  const exactlyOne = (type: string) => {
    const found = byType(type);
    if (found.length !== 1 || !found[0]) {
      throw new Error(
        `expected exactly one ${type} in the app, found ${found.length}: update local-account.ts`,
      );
    }
    return found[0];
  };
  const physical: PhysicalResources = {
    ref(stackName, logicalId) {
      const standIn = standIns.get(`${stackName}/${logicalId}`);
      if (!standIn) throw new Error(`${stackName}/${logicalId} has no local stand-in (Ref)`);
      return standIn.ref;
    },
    getAtt(stackName, logicalId, attribute) {
      const value = standIns.get(`${stackName}/${logicalId}`)?.attributes[attribute];
      if (value === undefined) {
        throw new Error(`${stackName}/${logicalId} has no local stand-in for Fn::GetAtt ${attribute}`);
      }
      return value;
    },
  };

  const dataDir = await mkdtemp(path.join(tmpdir(), "palimpsest-shipped-"));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));

  const table = exactlyOne("AWS::DynamoDB::Table");
  const tableName = `${table.stackName}-${table.logicalId}`;
  const dynamo = await startEmbeddedDynamo({ directory: path.join(dataDir, "dynamodb") });
  cleanups.push(() => dynamo.close());
  const dynamoClient = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: LOCAL_REGION,
    credentials: CREDENTIALS,
  });
  cleanups.push(async () => dynamoClient.destroy());
  await ensureArchiveTable(dynamoClient, tableName);
  standIns.set(`${table.stackName}/${table.logicalId}`, {
    ref: tableName,
    attributes: { Arn: `arn:aws:dynamodb:${LOCAL_REGION}:${LOCAL_ACCOUNT}:table/${tableName}` },
  });

  const bucket = exactlyOne("AWS::S3::Bucket");
  const bucketName = `${bucket.stackName}-${bucket.logicalId}`.toLowerCase();
  const s3Server = await startEmbeddedS3({
    directory: path.join(dataDir, "s3"),
    bucketName,
    credentials: CREDENTIALS,
  });
  cleanups.push(() => s3Server.close());
  standIns.set(`${bucket.stackName}/${bucket.logicalId}`, {
    ref: bucketName,
    attributes: { Arn: `arn:aws:s3:::${bucketName}` },
  });
  const s3 = new S3Client({
    endpoint: s3Server.endpoint,
    region: LOCAL_REGION,
    credentials: CREDENTIALS,
    forcePathStyle: true,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
  cleanups.push(async () => s3.destroy());

  const moto = await startMotoServer();
  cleanups.push(() => moto.close());
  const sqs = new SQSClient({ endpoint: moto.endpoint, region: LOCAL_REGION, credentials: CREDENTIALS });
  const events = new EventBridgeClient({
    endpoint: moto.endpoint,
    region: LOCAL_REGION,
    credentials: CREDENTIALS,
  });
  cleanups.push(async () => {
    sqs.destroy();
    events.destroy();
  });

  const queues = byType("AWS::SQS::Queue");
  const queueUrls = new Map<string, string>();
  for (const queue of queues) {
    const attributes: Record<string, string> = {};
    for (const name of [
      "VisibilityTimeout",
      "MessageRetentionPeriod",
      "DelaySeconds",
      "MaximumMessageSize",
      "ReceiveMessageWaitTimeSeconds",
      "FifoQueue",
    ]) {
      if (queue.props[name] !== undefined) attributes[name] = String(queue.props[name]);
    }
    const queueName = `${queue.stackName}-${queue.logicalId}${queue.props.FifoQueue ? ".fifo" : ""}`;
    const created = await sqs.send(new CreateQueueCommand({ QueueName: queueName, Attributes: attributes }));
    if (!created.QueueUrl) throw new Error(`moto created ${queueName} without a URL`);
    const arn = (
      await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: created.QueueUrl, AttributeNames: ["QueueArn"] }),
      )
    ).Attributes?.QueueArn;
    if (!arn) throw new Error(`moto has no ARN for ${queueName}`);
    queueUrls.set(arn, created.QueueUrl);
    standIns.set(`${queue.stackName}/${queue.logicalId}`, {
      ref: created.QueueUrl,
      attributes: { Arn: arn, QueueName: queueName, QueueUrl: created.QueueUrl },
    });
  }
  // Redrive policies name other queues, so they are set once every queue exists.
  for (const queue of queues) {
    const redrive = queue.props.RedrivePolicy as
      | { deadLetterTargetArn: unknown; maxReceiveCount: number }
      | undefined;
    if (!redrive) continue;
    await sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: physical.ref(queue.stackName, queue.logicalId),
        Attributes: {
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: app.resolve(queue.stackName, redrive.deadLetterTargetArn, physical),
            maxReceiveCount: redrive.maxReceiveCount,
          }),
        },
      }),
    );
  }

  for (const bus of byType("AWS::Events::EventBus")) {
    const name = app.resolve(bus.stackName, bus.props.Name, physical);
    const created = await events.send(new CreateEventBusCommand({ Name: name }));
    if (!created.EventBusArn) throw new Error(`moto created event bus ${name} without an ARN`);
    standIns.set(`${bus.stackName}/${bus.logicalId}`, {
      ref: name,
      attributes: { Arn: created.EventBusArn, Name: name },
    });
  }

  // KMS keys (the evidence signing key, the alarm topic's key) in moto's KMS, with their spec and usage.
  const kms = new KMSClient({ endpoint: moto.endpoint, region: LOCAL_REGION, credentials: CREDENTIALS });
  cleanups.push(async () => kms.destroy());
  for (const key of byType("AWS::KMS::Key")) {
    const created = await kms.send(
      new CreateKeyCommand({
        ...(key.props.KeySpec ? { KeySpec: key.props.KeySpec as KeySpec } : {}),
        ...(key.props.KeyUsage ? { KeyUsage: key.props.KeyUsage as KeyUsageType } : {}),
        Description: `${key.stackName}/${key.logicalId}`,
      }),
    );
    const { KeyId, Arn } = created.KeyMetadata ?? {};
    if (!KeyId || !Arn) throw new Error(`moto created ${key.stackName}/${key.logicalId} without an id`);
    standIns.set(`${key.stackName}/${key.logicalId}`, { ref: KeyId, attributes: { Arn, KeyId } });
  }

  // Function URLs (the replay origin) are addresses a browser would open; the API only writes them
  // into pages. A closed loopback port stands in, so nothing here can reach a real host.
  for (const url of byType("AWS::Lambda::Url")) {
    standIns.set(`${url.stackName}/${url.logicalId}`, {
      ref: url.logicalId,
      attributes: { FunctionUrl: "http://127.0.0.1:9/", FunctionArn: url.logicalId },
    });
  }

  const runtimeEnvironment = () => ({
    AWS_REGION: LOCAL_REGION,
    AWS_DEFAULT_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_SESSION_TOKEN: CREDENTIALS.sessionToken,
    // The project's own overrides for S3-compatible and DynamoDB-compatible servers…
    S3_ENDPOINT: s3Server.endpoint,
    DYNAMODB_ENDPOINT: dynamo.endpoint,
    // …and the SDK's, for the services the project never points elsewhere.
    AWS_ENDPOINT_URL_SQS: moto.endpoint,
    AWS_ENDPOINT_URL_EVENTBRIDGE: moto.endpoint,
    AWS_ENDPOINT_URL_KMS: moto.endpoint,
  });

  const queueUrl = (arn: string) => {
    const url = queueUrls.get(arn);
    if (!url) throw new Error(`no queue has the ARN ${arn}`);
    return url;
  };

  return {
    ...physical,
    s3Endpoint: s3Server.endpoint,
    dynamodbEndpoint: dynamo.endpoint,
    motoEndpoint: moto.endpoint,
    s3,
    sqs,
    events,
    tableName,
    bucketName,
    runtimeEnvironment,
    resolvedEnvironment: (fn) =>
      Object.fromEntries(
        Object.entries(fn.environment).map(([name, value]) => [
          name,
          app.resolve(fn.stackName, value, physical),
        ]),
      ),
    queueUrl,
    async deliver(fn, container, waitSeconds = 1) {
      if (fn.eventSources.length === 0) throw new Error(`${fn.logicalId} has no event source`);
      for (const source of fn.eventSources) {
        const delivered = await deliverFrom(fn, source, container, waitSeconds);
        if (delivered) return delivered;
      }
      return undefined;
    },
    close,
  };

  async function deliverFrom(
    fn: ShippedFunction,
    source: ShippedFunction["eventSources"][number],
    container: LambdaContainer,
    waitSeconds: number,
  ): Promise<{ event: SQSEvent; outcome: InvocationOutcome } | undefined> {
    const arn = app.resolve(fn.stackName, source.eventSourceArn, physical);
    const url = queueUrl(arn);
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: Math.min(10, source.batchSize),
        WaitTimeSeconds: waitSeconds,
        MessageSystemAttributeNames: ["All"],
        MessageAttributeNames: ["All"],
      }),
    );
    const messages = received.Messages ?? [];
    if (messages.length === 0) return undefined;
    const event: SQSEvent = {
      Records: messages.map(
        (m): SQSRecord => ({
          messageId: m.MessageId ?? "",
          receiptHandle: m.ReceiptHandle ?? "",
          body: m.Body ?? "",
          attributes: {
            ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? "1",
            SentTimestamp: m.Attributes?.SentTimestamp ?? String(Date.now()),
            SenderId: m.Attributes?.SenderId ?? LOCAL_ACCOUNT,
            ApproximateFirstReceiveTimestamp:
              m.Attributes?.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
          },
          messageAttributes: {},
          md5OfBody: m.MD5OfBody ?? "",
          eventSource: "aws:sqs",
          eventSourceARN: arn,
          awsRegion: LOCAL_REGION,
        }),
      ),
    };
    const outcome = await container.invoke(event);
    // A function error returns the whole batch to the queue; a partial failure only the listed messages.
    if (outcome.ok) {
      const failed = new Set(
        source.reportBatchItemFailures
          ? ((outcome.result as SQSBatchResponse | null)?.batchItemFailures ?? []).map(
              (f) => f.itemIdentifier,
            )
          : [],
      );
      const done = messages.filter((m) => !failed.has(m.MessageId ?? ""));
      if (done.length > 0) {
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: url,
            Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? "" })),
          }),
        );
      }
    }
    return { event, outcome };
  }
}
