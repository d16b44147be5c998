/**
 * The operations dashboard: one page in the service stack that graphs the business metrics the
 * functions write (in the namespace they write them to) beside the Lambda, SQS, DynamoDB and API
 * Gateway metrics.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { Stack } from "aws-cdk-lib";
import { METRIC, METRICS_NAMESPACE } from "../../shared/metric-names.ts";
import { synthPalimpsest } from "./synth.ts";

/** The dashboard body with its CloudFormation references flattened to placeholders. */
function bodyOf(resource: { Properties: { DashboardBody: unknown } }): string {
  const flatten = (value: unknown): string => {
    if (typeof value === "string") return value;
    if (Array.isArray(value)) return value.map(flatten).join("");
    if (value && typeof value === "object") {
      const join = (value as { "Fn::Join"?: [string, unknown[]] })["Fn::Join"];
      if (join) return join[1].map(flatten).join(join[0]);
      return "«ref»";
    }
    return String(value);
  };
  return flatten(resource.Properties.DashboardBody);
}

describe("operations dashboard", () => {
  let body: string;
  let widgets: Array<{ type: string; properties: { title?: string; metrics?: unknown[] } }>;

  before(() => {
    const synth = synthPalimpsest();
    const dashboards = Object.values(synth.serviceTemplate.findResources("AWS::CloudWatch::Dashboard"));
    assert.equal(dashboards.length, 1, "one dashboard in the service stack");
    assert.equal(Stack.of(synth.service.dashboard).stackName, synth.service.stackName);
    body = bodyOf(dashboards[0] as { Properties: { DashboardBody: unknown } });
    widgets = JSON.parse(body).widgets;
  });

  test("graphs every business metric in the namespace the functions write", () => {
    assert.equal(METRICS_NAMESPACE, "Palimpsest");
    for (const name of Object.values(METRIC)) {
      assert.ok(body.includes(name), `${name} is graphed`);
    }
    // By outcome, by failure code, by significance and stealth: SEARCH over the dimensions.
    assert.ok(body.includes(`SEARCH('{Palimpsest,service,outcome} MetricName=\\"Captures\\"`), body);
    assert.ok(body.includes(`{Palimpsest,service,code} MetricName=\\"CaptureFailures\\"`));
    assert.ok(body.includes(`{Palimpsest,service,significance,stealth} MetricName=\\"Edits\\"`));
    const own = widgets
      .flatMap((w) => w.properties.metrics ?? [])
      .filter((m) => Array.isArray(m) && m[0] === METRICS_NAMESPACE);
    assert.ok(own.length >= 4, "duration, queue wait and sweep metrics read the namespace");
  });

  test("puts Lambda, SQS, DynamoDB and API Gateway metrics beside them", () => {
    for (const namespace of ["AWS/Lambda", "AWS/SQS", "AWS/DynamoDB", "AWS/ApiGateway"]) {
      assert.ok(body.includes(`"${namespace}"`), `${namespace} is on the dashboard`);
    }
    const titles = widgets.map((w) => w.properties.title).filter(Boolean);
    for (const title of [
      "Captures by outcome",
      "Capture queue (scheduled)",
      "Capture queue (interactive)",
      "Lambda errors and throttles",
      "API latency (ms)",
    ]) {
      assert.ok(titles.includes(title), `${title} widget`);
    }
  });

  test("graphs both capture queues' depth and the age of their oldest message", () => {
    for (const title of ["Capture queue (scheduled)", "Capture queue (interactive)"]) {
      const widget = widgets.find((w) => w.properties.title === title);
      const names = JSON.stringify(widget?.properties.metrics ?? []);
      for (const metric of ["ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage"]) {
        assert.ok(names.includes(metric), `${title}: ${metric}`);
      }
    }
  });
});
