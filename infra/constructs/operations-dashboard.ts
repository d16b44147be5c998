import { Duration } from "aws-cdk-lib";
import type { RestApi } from "aws-cdk-lib/aws-apigateway";
import {
  type CfnDashboard,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  TextWidget,
} from "aws-cdk-lib/aws-cloudwatch";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { METRIC, METRIC_DIMENSIONS, METRICS_NAMESPACE, METRICS_SERVICE } from "../../shared/metric-names.ts";

/** A queue and the dead-letter queue behind it. */
export interface DashboardQueue {
  readonly queue: IQueue;
  readonly deadLetterQueue: IQueue;
}

/** Props of {@link OperationsDashboard}. */
export interface OperationsDashboardProps {
  /** The functions, by the name their graphs carry. */
  readonly functions: Readonly<Record<string, IFunction>>;
  readonly captureQueue: DashboardQueue;
  /** The interactive capture queue (people's captures); it shares the capture queue's DLQ. */
  readonly interactiveCaptureQueue: IQueue;
  readonly pollQueue: DashboardQueue;
  readonly table: ITable;
  readonly api: RestApi;
  /** @default Duration.minutes(5) */
  readonly period?: Duration;
  /** @default - a name CloudFormation generates */
  readonly dashboardName?: string;
}

const WIDTH = 8;
const HEIGHT = 6;

/**
 * One CloudWatch dashboard with the archive's health on one page: the business metrics the
 * functions write as EMF lines (captures by outcome and failure code, edits by significance and
 * stealth, capture duration, queue wait, sweeps) above the Lambda, SQS, DynamoDB and API Gateway
 * metrics that explain them. The business graphs use SEARCH, so a new outcome or failure code
 * shows up without a deploy.
 */
export class OperationsDashboard extends Construct {
  public readonly dashboard: Dashboard;
  /** The namespace the business graphs read (the functions write the same constant). */
  public readonly namespace = METRICS_NAMESPACE;

  constructor(scope: Construct, id: string, props: OperationsDashboardProps) {
    super(scope, id);
    const period = props.period ?? Duration.minutes(5);
    this.dashboard = new Dashboard(this, "Dashboard", {
      ...(props.dashboardName ? { dashboardName: props.dashboardName } : {}),
      defaultInterval: Duration.days(1),
    });
    // The app tags every resource; the CloudFormation schema that cfn-lint checks against has no
    // Tags on AWS::CloudWatch::Dashboard, so the tags the CDK now renders for it are left out
    // rather than risk a deploy that the resource's own schema refuses.
    (this.dashboard.node.defaultChild as CfnDashboard).addPropertyDeletionOverride("Tags");

    // SEARCH over every value of the metric's dimensions, e.g. one line per outcome.
    const search = (name: string, dimensions: readonly string[]) =>
      new MathExpression({
        expression: `SEARCH('{${[METRICS_NAMESPACE, "service", ...dimensions].join(",")}} MetricName="${name}" service="${METRICS_SERVICE}"', 'Sum', ${period.toSeconds()})`,
        period,
        usingMetrics: {},
      });
    const own = (name: string, statistic: string) =>
      new Metric({
        namespace: METRICS_NAMESPACE,
        metricName: name,
        dimensionsMap: { service: METRICS_SERVICE },
        statistic,
        period,
      });
    const graph = (title: string, left: IMetric[], right: IMetric[] = []) =>
      new GraphWidget({ title, left, right, width: WIDTH, height: HEIGHT });
    const perFunction = (metric: (fn: IFunction) => IMetric) =>
      Object.values(props.functions).map((fn) => metric(fn));
    const queueDepth = (q: DashboardQueue) => [
      q.queue.metricApproximateNumberOfMessagesVisible({ period, label: "waiting" }),
      q.queue.metricApproximateNumberOfMessagesNotVisible({ period, label: "in flight" }),
      q.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, label: "dead letters" }),
    ];

    this.dashboard.addWidgets(
      new TextWidget({
        markdown:
          "## Palimpsest\nCaptures, edits and sweeps as the functions report them (namespace " +
          `\`${METRICS_NAMESPACE}\`), then the services underneath. See ARCHITECTURE.md for the flow.`,
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      graph("Captures by outcome", [search(METRIC.captures, METRIC_DIMENSIONS.captures)]),
      graph("Capture failures by code", [search(METRIC.captureFailures, METRIC_DIMENSIONS.captureFailures)]),
      graph("Edits by significance and stealth", [search(METRIC.edits, METRIC_DIMENSIONS.edits)]),
      graph("Versions kept without evidence, by reason", [
        search(METRIC.evidenceMissing, METRIC_DIMENSIONS.evidenceMissing),
      ]),
    );
    this.dashboard.addWidgets(
      graph("Capture duration (ms)", [
        own(METRIC.captureDuration, "p50"),
        own(METRIC.captureDuration, "p90"),
      ]),
      graph("Queue wait (ms)", [own(METRIC.queueWait, "p50"), own(METRIC.queueWait, "p90")]),
      graph(
        "Sweeps: captures and polls enqueued; sweeps held by back-pressure (right)",
        [own(METRIC.sweepEnqueued, "Sum"), own(METRIC.sweepPolls, "Sum")],
        [own(METRIC.sweepHeld, "Sum")],
      ),
    );
    this.dashboard.addWidgets(
      graph(
        "Lambda invocations",
        perFunction((fn) => fn.metricInvocations({ period })),
      ),
      graph(
        "Lambda errors and throttles",
        perFunction((fn) => fn.metricErrors({ period })),
        perFunction((fn) => fn.metricThrottles({ period })),
      ),
      graph(
        "Lambda duration p90 (ms)",
        perFunction((fn) => fn.metricDuration({ period, statistic: "p90" })),
      ),
    );
    this.dashboard.addWidgets(
      graph("Capture queue (scheduled)", queueDepth(props.captureQueue), [
        props.captureQueue.queue.metricApproximateAgeOfOldestMessage({ period, label: "oldest (s)" }),
      ]),
      graph(
        "Capture queue (interactive)",
        [
          props.interactiveCaptureQueue.metricApproximateNumberOfMessagesVisible({
            period,
            label: "waiting",
          }),
          props.interactiveCaptureQueue.metricApproximateNumberOfMessagesNotVisible({
            period,
            label: "in flight",
          }),
        ],
        [props.interactiveCaptureQueue.metricApproximateAgeOfOldestMessage({ period, label: "oldest (s)" })],
      ),
      graph("Poll queue", queueDepth(props.pollQueue), [
        props.pollQueue.queue.metricApproximateAgeOfOldestMessage({ period, label: "oldest (s)" }),
      ]),
      graph(
        "DynamoDB capacity and throttles",
        [
          props.table.metricConsumedReadCapacityUnits({ period, label: "read units" }),
          props.table.metricConsumedWriteCapacityUnits({ period, label: "write units" }),
        ],
        [props.table.metric("WriteThrottleEvents", { period, statistic: "Sum", label: "write throttles" })],
      ),
    );
    this.dashboard.addWidgets(
      graph(
        "API requests and errors",
        [props.api.metricCount({ period, label: "requests" })],
        [
          props.api.metricClientError({ period, label: "4xx" }),
          props.api.metricServerError({ period, label: "5xx" }),
        ],
      ),
      graph("API latency (ms)", [
        props.api.metricLatency({ period, statistic: "p50", label: "p50" }),
        props.api.metricLatency({ period, statistic: "p90", label: "p90" }),
      ]),
    );
  }
}
