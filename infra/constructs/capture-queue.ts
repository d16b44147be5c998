import { Annotations, Duration, RemovalPolicy } from "aws-cdk-lib";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { Function as LambdaFunction } from "aws-cdk-lib/aws-lambda";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { loadCaptureQueueRetentionMs } from "../../shared/config.ts";
import { minimumRetentionMs } from "../../shared/domain/back-pressure.ts";
import { ENV } from "../../shared/env-names.ts";
import { DEFAULTS } from "./defaults.ts";

/** Props of {@link CaptureQueue}. */
export interface CaptureQueueProps {
  /**
   * Timeout of the function that will consume the queue. The visibility timeout is derived from
   * it, and {@link CaptureQueue.bindConsumer} refuses a consumer with a longer timeout.
   * @default Duration.minutes(3) (the capture function's default timeout)
   */
  readonly consumerTimeout?: Duration;
  /**
   * How long a received message stays hidden from other consumers. Must be at least the
   * consumer timeout; below 6 × the consumer timeout synth warns (AWS guidance).
   * @default 6 × consumerTimeout
   */
  readonly visibilityTimeout?: Duration;
  /**
   * Deliveries before a message moves to the dead-letter queue.
   * @default 3
   */
  readonly maxReceiveCount?: number;
  /**
   * How long an unconsumed message is kept, up to 14 days and at least 15 minutes (the longest
   * delay) plus maxReceiveCount × the visibility timeout (69 minutes with the defaults), so every
   * delivery happens before SQS drops the message. The sweeper learns it through
   * {@link CaptureQueue.bindExpirySweeper} and fails a capture still pending after it as `expired`
   * (shared/domain/sweep.ts).
   * @default Duration.days(14) (SQS's longest)
   */
  readonly retentionPeriod?: Duration;
  /**
   * How long the dead-letter queue keeps a message. Must not be shorter than retentionPeriod:
   * expiry counts from the first enqueue, so a shorter DLQ retention would drop messages on arrival.
   * @default Duration.days(14)
   */
  readonly deadLetterRetentionPeriod?: Duration;
  /**
   * How long a message received from the dead-letter queue stays hidden. It bounds the timeout of
   * the dead-letter consumer and is the interval at which a dead letter the consumer failed on is
   * retried (the DLQ has no redrive of its own: such messages stay until deadLetterRetentionPeriod).
   * @default Duration.minutes(5)
   */
  readonly deadLetterVisibilityTimeout?: Duration;
}

/** Options of {@link CaptureQueue.bindConsumer}. */
export interface CaptureQueueConsumerOptions {
  /**
   * Most concurrent invocations the scheduled queue drives (2–1000). Caps the browsers running at
   * once without the message loss that reserved concurrency causes on SQS triggers.
   */
  readonly maxConcurrency: number;
  /**
   * Most concurrent invocations the interactive queue drives (2–1000), on top of
   * `maxConcurrency`: people's captures have browsers of their own, however deep the scheduled
   * backlog.
   */
  readonly interactiveMaxConcurrency: number;
  /**
   * Messages per invocation.
   * @default 1 (one page per browser per invocation: a slow page cannot hold others hostage)
   */
  readonly batchSize?: number;
}

/** Options of {@link CaptureQueue.bindDeadLetterConsumer}. */
export interface DeadLetterConsumerOptions {
  /**
   * Messages per invocation (1–10).
   * @default 10
   */
  readonly batchSize?: number;
  /**
   * Most concurrent invocations the dead-letter queue drives (2–1000).
   * @default 2
   */
  readonly maxConcurrency?: number;
}

/**
 * The SQS queues of pending captures, one per lane, and the dead-letter queue they share. The
 * scheduled queue takes the sweeper's recaptures and the articles polls find, bulk that can
 * build a backlog of hours; the interactive queue takes what a person asked for (the API), so a
 * person's capture never waits behind that backlog. Both have the same settings (retention,
 * visibility, receive count) and one consumer, the capture function, through a mapping each.
 *
 * One dead-letter queue for both: a dead letter is handled the same whichever lane it came from
 * (its capture is recorded failed, by the id in the one message codec), so one DLQ keeps one
 * consumer mapping, one retention rule checked against both queues, and one "not drained" alarm
 * that covers every capture, where two would double each with nothing to tell apart.
 *
 * All are SQS-SSE encrypted and refuse non-TLS requests. Producers, the consumer and the
 * dead-letter consumer attach through the bind methods, which own `QUEUE_URL`,
 * `INTERACTIVE_QUEUE_URL` and the grants.
 */
export class CaptureQueue extends Construct {
  /** The scheduled capture queue (sweeper, poll worker). */
  public readonly queue: Queue;
  /** The interactive capture queue (the API: a person's captures). */
  public readonly interactiveQueue: Queue;
  /**
   * Where messages of either queue go after {@link CaptureQueue.maxReceiveCount} failed
   * deliveries.
   */
  public readonly deadLetterQueue: Queue;
  /** Visibility timeout of {@link CaptureQueue.queue}. */
  public readonly visibilityTimeout: Duration;
  /** Deliveries before a message is dead-lettered. */
  public readonly maxReceiveCount: number;
  /** Visibility timeout of {@link CaptureQueue.deadLetterQueue}. */
  public readonly deadLetterVisibilityTimeout: Duration;
  /** How long {@link CaptureQueue.queue} and {@link CaptureQueue.interactiveQueue} keep a message. */
  public readonly retentionPeriod: Duration;

  constructor(scope: Construct, id: string, props: CaptureQueueProps = {}) {
    super(scope, id);
    const consumerTimeout = props.consumerTimeout ?? DEFAULTS.captureFunctionTimeout;
    const recommended = Duration.seconds(consumerTimeout.toSeconds() * DEFAULTS.visibilityTimeoutFactor);
    this.visibilityTimeout = props.visibilityTimeout ?? recommended;
    this.maxReceiveCount = props.maxReceiveCount ?? DEFAULTS.maxReceiveCount;
    const retentionPeriod = props.retentionPeriod ?? DEFAULTS.queueRetentionPeriod;
    this.retentionPeriod = retentionPeriod;
    const deadLetterRetentionPeriod = props.deadLetterRetentionPeriod ?? DEFAULTS.deadLetterRetentionPeriod;
    this.deadLetterVisibilityTimeout =
      props.deadLetterVisibilityTimeout ?? DEFAULTS.deadLetterVisibilityTimeout;

    if (this.visibilityTimeout.toSeconds() < consumerTimeout.toSeconds()) {
      throw new Error(
        `CaptureQueue: visibilityTimeout (${this.visibilityTimeout.toHumanString()}) is shorter than the consumer timeout (${consumerTimeout.toHumanString()}); messages would be redelivered while still being processed.`,
      );
    }
    if (this.visibilityTimeout.toSeconds() < recommended.toSeconds()) {
      Annotations.of(this).addWarningV2(
        "palimpsest:visibility-timeout",
        `visibilityTimeout is below ${DEFAULTS.visibilityTimeoutFactor} × the consumer timeout (${recommended.toHumanString()}), the AWS recommendation for Lambda event sources.`,
      );
    }
    if (!Number.isInteger(this.maxReceiveCount) || this.maxReceiveCount < 1 || this.maxReceiveCount > 1000) {
      throw new Error(
        `CaptureQueue: maxReceiveCount must be an integer in 1..1000, got ${this.maxReceiveCount}.`,
      );
    }
    // The sweeper parses it with this loader at cold start: a value it would refuse fails here.
    try {
      loadCaptureQueueRetentionMs(this.#retentionEnvironment());
    } catch (err) {
      throw new Error(`CaptureQueue: retentionPeriod: ${(err as Error).message}`, { cause: err });
    }
    // A message must outlive its delay to its host's slot and every delivery's visibility timeout.
    const minimumRetention = Duration.millis(
      minimumRetentionMs({
        maxReceiveCount: this.maxReceiveCount,
        visibilityTimeoutMs: this.visibilityTimeout.toMilliseconds(),
      }),
    );
    if (retentionPeriod.toMilliseconds() < minimumRetention.toMilliseconds()) {
      throw new Error(
        `CaptureQueue: retentionPeriod (${retentionPeriod.toHumanString()}) is below ${minimumRetention.toHumanString()} (15 minutes of delay and ${this.maxReceiveCount} visibility timeouts of ${this.visibilityTimeout.toHumanString()}); SQS would drop captures before their last delivery.`,
      );
    }
    if (deadLetterRetentionPeriod.toSeconds() < retentionPeriod.toSeconds()) {
      throw new Error(
        "CaptureQueue: deadLetterRetentionPeriod is shorter than retentionPeriod; dead-lettered messages would expire on arrival.",
      );
    }

    this.deadLetterQueue = new Queue(this, "DeadLetterQueue", {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: deadLetterRetentionPeriod,
      visibilityTimeout: this.deadLetterVisibilityTimeout,
      // Pending work is not archive data: the archive (table) records every capture's state.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // One definition for both lanes: they differ in who sends, never in how a message is kept.
    const laneQueue = (queueId: string) =>
      new Queue(this, queueId, {
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        visibilityTimeout: this.visibilityTimeout,
        retentionPeriod,
        deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: this.maxReceiveCount },
        removalPolicy: RemovalPolicy.DESTROY,
      });
    this.queue = laneQueue("Queue");
    this.interactiveQueue = laneQueue("InteractiveQueue");
  }

  /**
   * Lets `fn` (the sweeper, the poll worker) enqueue scheduled captures: sets `QUEUE_URL` and
   * grants, on the scheduled queue only, sqs:SendMessage (which also authorises SendMessageBatch)
   * and sqs:GetQueueAttributes (the queue depth behind back-pressure). Nothing to receive, delete
   * or purge, and nothing on the interactive queue.
   */
  public bindProducer(fn: LambdaFunction): void {
    this.#bindSender(fn, ENV.queueUrl, this.queue);
  }

  /**
   * Lets `fn` (the API) enqueue a person's captures: sets `INTERACTIVE_QUEUE_URL` and grants the
   * same two actions on the interactive queue only (its depth is the API's 429), so nothing a
   * person starts lands behind the scheduled backlog, and the API cannot add to that backlog.
   */
  public bindInteractiveProducer(fn: LambdaFunction): void {
    this.#bindSender(fn, ENV.interactiveQueueUrl, this.interactiveQueue);
  }

  #bindSender(fn: LambdaFunction, variable: string, queue: Queue): void {
    fn.addEnvironment(variable, queue.queueUrl);
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ["sqs:SendMessage", "sqs:GetQueueAttributes"],
        resources: [queue.queueArn],
      }),
    );
  }

  /**
   * Tells `fn` (the sweeper) how long the queue keeps a message (`CAPTURE_QUEUE_RETENTION_MS`):
   * a capture pending longer lost its message, and the sweep fails it `expired` instead of
   * waiting on it forever. Set from the queue itself, so a shorter retention cannot strand
   * captures for the 14 days the sweep would otherwise assume.
   */
  public bindExpirySweeper(fn: LambdaFunction): void {
    for (const [name, value] of Object.entries(this.#retentionEnvironment())) fn.addEnvironment(name, value);
  }

  #retentionEnvironment(): Record<string, string> {
    return { [ENV.captureQueueRetentionMs]: String(this.retentionPeriod.toMilliseconds()) };
  }

  /**
   * Makes `fn` the consumer of both queues: an event source mapping each, with its own maximum
   * concurrency, that reports partial batch failures (only the failed messages are retried, then
   * dead-lettered), and `CAPTURE_MAX_ATTEMPTS` set to the receive count after which a message is
   * dead-lettered. The two deliver the same message codec; the function cannot tell them apart
   * and need not. The mappings grant the receive and delete permissions. Throws when `fn`'s
   * timeout exceeds the visibility timeout.
   */
  public bindConsumer(fn: LambdaFunction, options: CaptureQueueConsumerOptions): void {
    const timeout = fn.timeout ?? Duration.seconds(3);
    if (timeout.toSeconds() > this.visibilityTimeout.toSeconds()) {
      throw new Error(
        `CaptureQueue: consumer timeout (${timeout.toHumanString()}) exceeds the visibility timeout (${this.visibilityTimeout.toHumanString()}); size the queue with consumerTimeout.`,
      );
    }
    if (timeout.toSeconds() * DEFAULTS.visibilityTimeoutFactor > this.visibilityTimeout.toSeconds()) {
      Annotations.of(fn).addWarningV2(
        "palimpsest:visibility-timeout",
        `The queue's visibility timeout is below ${DEFAULTS.visibilityTimeoutFactor} × this consumer's timeout (AWS recommendation); size the queue with consumerTimeout.`,
      );
    }
    for (const [name, value] of [
      ["maxConcurrency", options.maxConcurrency],
      ["interactiveMaxConcurrency", options.interactiveMaxConcurrency],
    ] as const) {
      // Lambda's bounds on an SQS mapping's maximum concurrency.
      if (!Number.isInteger(value) || value < 2 || value > 1000) {
        throw new Error(`CaptureQueue: ${name} must be an integer in 2..1000, got ${value}.`);
      }
    }
    // The worker records a capture as failed on its last delivery instead of asking for a retry;
    // it learns which delivery is the last from here, so the two counts cannot disagree.
    fn.addEnvironment(ENV.captureMaxAttempts, String(this.maxReceiveCount));
    const batchSize = options.batchSize ?? 1;
    fn.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize,
        reportBatchItemFailures: true,
        maxConcurrency: options.maxConcurrency,
      }),
    );
    fn.addEventSource(
      new SqsEventSource(this.interactiveQueue, {
        batchSize,
        reportBatchItemFailures: true,
        maxConcurrency: options.interactiveMaxConcurrency,
      }),
    );
  }

  /**
   * Makes `fn` the consumer of the dead-letter queue both capture queues share, with partial batch
   * failure reporting. The mapping grants receive and delete on the DLQ only; nothing here lets
   * `fn` send anywhere, so it cannot put a message back on a capture queue and start a loop. A message `fn` fails on is
   * retried every {@link CaptureQueue.deadLetterVisibilityTimeout} and kept for the DLQ's retention
   * period. Throws when `fn`'s timeout exceeds that visibility timeout (Lambda refuses the mapping).
   */
  public bindDeadLetterConsumer(fn: LambdaFunction, options: DeadLetterConsumerOptions = {}): void {
    const timeout = fn.timeout ?? Duration.seconds(3);
    const visibility = this.deadLetterVisibilityTimeout;
    if (timeout.toSeconds() > visibility.toSeconds()) {
      throw new Error(
        `CaptureQueue: dead-letter consumer timeout (${timeout.toHumanString()}) exceeds the dead-letter queue's visibility timeout (${visibility.toHumanString()}).`,
      );
    }
    if (timeout.toSeconds() * DEFAULTS.visibilityTimeoutFactor > visibility.toSeconds()) {
      Annotations.of(fn).addWarningV2(
        "palimpsest:visibility-timeout",
        `The dead-letter queue's visibility timeout is below ${DEFAULTS.visibilityTimeoutFactor} × this consumer's timeout (AWS recommendation); raise deadLetterVisibilityTimeout.`,
      );
    }
    const batchSize = options.batchSize ?? DEFAULTS.deadLetterBatchSize;
    const maxConcurrency = options.maxConcurrency ?? DEFAULTS.deadLetterMaxConcurrency;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10) {
      // Above 10 Lambda requires a batching window; dead letters never need one.
      throw new Error(`CaptureQueue: dead-letter batchSize must be an integer in 1..10, got ${batchSize}.`);
    }
    if (!Number.isInteger(maxConcurrency) || maxConcurrency < 2 || maxConcurrency > 1000) {
      throw new Error(
        `CaptureQueue: dead-letter maxConcurrency must be an integer in 2..1000, got ${maxConcurrency}.`,
      );
    }
    fn.addEventSource(
      new SqsEventSource(this.deadLetterQueue, { batchSize, reportBatchItemFailures: true, maxConcurrency }),
    );
  }
}
