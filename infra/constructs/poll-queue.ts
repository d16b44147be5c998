import { Duration, RemovalPolicy } from "aws-cdk-lib";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { Function as LambdaFunction } from "aws-cdk-lib/aws-lambda";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { ENV } from "../../shared/env-names.ts";
import { DEFAULTS } from "./defaults.ts";

/** Props of {@link PollQueue}. */
export interface PollQueueProps {
  /**
   * Timeout of the poll function; the visibility timeout is 6 × it (AWS guidance for Lambda
   * event sources), and {@link PollQueue.bindConsumer} refuses a consumer with a longer timeout.
   * @default Duration.minutes(4)
   */
  readonly consumerTimeout?: Duration;
  /**
   * Deliveries of a poll job before it moves to the dead-letter queue. A source whose job is
   * dead-lettered loses nothing: its lease runs out and the sweep polls it again.
   * @default 3
   */
  readonly maxReceiveCount?: number;
}

/**
 * The queue of poll jobs (`{"kind":"poll","sourceId"}`), one per due source, apart from the capture
 * queue so that polls never wait behind browser captures nor take their concurrency. Encrypted,
 * TLS only, with a dead-letter queue. Producers (the sweeper, the API when a source is followed,
 * the poll function deferring a busy host) and the consumer attach through the bind methods,
 * which own `POLL_QUEUE_URL` and the grants.
 */
export class PollQueue extends Construct {
  public readonly queue: Queue;
  /** Poll jobs that failed {@link PollQueue.maxReceiveCount} times (a bug or an outage, never a bad feed). */
  public readonly deadLetterQueue: Queue;
  public readonly visibilityTimeout: Duration;
  public readonly maxReceiveCount: number;

  constructor(scope: Construct, id: string, props: PollQueueProps = {}) {
    super(scope, id);
    const consumerTimeout = props.consumerTimeout ?? DEFAULTS.pollFunctionTimeout;
    this.visibilityTimeout = Duration.seconds(consumerTimeout.toSeconds() * DEFAULTS.visibilityTimeoutFactor);
    this.maxReceiveCount = props.maxReceiveCount ?? DEFAULTS.maxReceiveCount;
    if (!Number.isInteger(this.maxReceiveCount) || this.maxReceiveCount < 1 || this.maxReceiveCount > 1000) {
      throw new Error(
        `PollQueue: maxReceiveCount must be an integer in 1..1000, got ${this.maxReceiveCount}.`,
      );
    }
    this.deadLetterQueue = new Queue(this, "DeadLetterQueue", {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: DEFAULTS.deadLetterRetentionPeriod,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.queue = new Queue(this, "Queue", {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: this.visibilityTimeout,
      // A poll job older than a day is pointless: the source has come due again since.
      retentionPeriod: Duration.days(1),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: this.maxReceiveCount },
      removalPolicy: RemovalPolicy.DESTROY,
    });
  }

  /** Lets `fn` enqueue poll jobs: sets `POLL_QUEUE_URL` and grants sqs:SendMessage (batches too) only. */
  public bindProducer(fn: LambdaFunction): void {
    fn.addEnvironment(ENV.pollQueueUrl, this.queue.queueUrl);
    fn.addToRolePolicy(
      new PolicyStatement({ actions: ["sqs:SendMessage"], resources: [this.queue.queueArn] }),
    );
  }

  /**
   * Makes `fn` the consumer: an event source mapping with partial batch failures; the mapping
   * grants receive and delete. Throws when `fn`'s timeout exceeds the visibility timeout.
   */
  public bindConsumer(fn: LambdaFunction, options: { maxConcurrency: number; batchSize?: number }): void {
    const timeout = fn.timeout ?? Duration.seconds(3);
    if (timeout.toSeconds() > this.visibilityTimeout.toSeconds()) {
      throw new Error(
        `PollQueue: consumer timeout (${timeout.toHumanString()}) exceeds the visibility timeout (${this.visibilityTimeout.toHumanString()}); size the queue with consumerTimeout.`,
      );
    }
    if (
      !Number.isInteger(options.maxConcurrency) ||
      options.maxConcurrency < 2 ||
      options.maxConcurrency > 1000
    ) {
      throw new Error(
        `PollQueue: maxConcurrency must be an integer in 2..1000, got ${options.maxConcurrency}.`,
      );
    }
    fn.addEventSource(
      new SqsEventSource(this.queue, {
        // One job an invocation: a slow outlet cannot hold the others of a batch back.
        batchSize: options.batchSize ?? 1,
        reportBatchItemFailures: true,
        maxConcurrency: options.maxConcurrency,
      }),
    );
  }
}
