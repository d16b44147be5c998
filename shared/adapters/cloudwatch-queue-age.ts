/**
 * The capture queue's oldest message's age from CloudWatch (`AWS/SQS`
 * `ApproximateAgeOfOldestMessage`, the newest one-minute maximum of the last ten minutes), read at
 * most once a minute: SQS publishes the metric once a minute, so asking more often learns nothing.
 * Only the sweeper carries this client: it adds ~66 KB to a bundle, which the API's 540 KB budget
 * has no room for (BENCHMARKS.md, *bundles*).
 */
import { type CloudWatchClient, GetMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import type { QueueAgeReader } from "../ports.ts";

/** How long one reading is reused. */
export const QUEUE_AGE_CACHE_MS = 60_000;
/** SQS metrics arrive a few minutes late: look this far back for the newest datapoint. */
const LOOKBACK_MS = 10 * 60_000;

export function createCloudWatchQueueAge(deps: {
  client: CloudWatchClient;
  /** The queue's URL; its last path segment is the metric's QueueName dimension. */
  queueUrl: string;
  /** Called when CloudWatch cannot be read (the caller falls back to depth). @default - ignored */
  onError?: (err: unknown) => void;
  now?: () => number;
}): QueueAgeReader {
  // `https://sqs.<region>.amazonaws.com/<account>/<name>`: the name is the last segment.
  const queueName = deps.queueUrl.split("/").filter(Boolean).pop() ?? "";
  const now = deps.now ?? Date.now;
  let cached: { at: number; value: number | undefined } | undefined;
  return {
    async oldestMessageAgeSeconds() {
      const at = now();
      if (cached && at - cached.at < QUEUE_AGE_CACHE_MS) return cached.value;
      let value: number | undefined;
      try {
        const out = await deps.client.send(
          new GetMetricDataCommand({
            StartTime: new Date(at - LOOKBACK_MS),
            EndTime: new Date(at),
            ScanBy: "TimestampDescending",
            MetricDataQueries: [
              {
                Id: "age",
                MetricStat: {
                  Metric: {
                    Namespace: "AWS/SQS",
                    MetricName: "ApproximateAgeOfOldestMessage",
                    Dimensions: [{ Name: "QueueName", Value: queueName }],
                  },
                  Period: 60,
                  Stat: "Maximum",
                },
              },
            ],
          }),
        );
        const result = out.MetricDataResults?.[0];
        const newest = (result?.Timestamps ?? [])
          .map((t, i) => ({ t: new Date(t).getTime(), v: result?.Values?.[i] }))
          .filter((p): p is { t: number; v: number } => typeof p.v === "number")
          .sort((a, b) => b.t - a.t)[0];
        value = newest?.v;
      } catch (err) {
        deps.onError?.(err);
        value = undefined;
      }
      cached = { at, value };
      return value;
    },
  };
}
