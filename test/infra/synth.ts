/**
 * Test helpers for the infra tier: synthesizes the real app (bundling off, with cdk.json's feature
 * flags so tests see what `cdk synth` produces) and reads IAM out of a template.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { Annotations, App, type AppProps, Aspects, type CfnElement, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import type { Function as LambdaFunction } from "aws-cdk-lib/aws-lambda";
import type { IConstruct } from "constructs";
import { REPO_ROOT } from "../../infra/constructs/defaults.ts";
import { PalimpsestFunction } from "../../infra/constructs/palimpsest-function.ts";
import { addPalimpsestStacks, type PalimpsestAppOptions } from "../../infra/palimpsest-app.ts";

/** The `context` block of cdk.json (feature flags). */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(path.join(REPO_ROOT, "cdk.json"), "utf8")) as {
    context?: Record<string, unknown>;
  };
  return cdkJson.context ?? {};
}

/** An App configured like `cdk synth` configures it (feature flags from cdk.json). */
export function newApp(props: AppProps = {}): App {
  const app = new App({ ...props, context: { ...cdkJsonContext(), ...props.context } });
  // Placeholders are the point here; the warning is for people running `cdk synth -c bundling=false`.
  // An aspect, because an acknowledgement only covers warnings already added below its scope.
  Aspects.of(app).add({
    visit: (node) => {
      if (node instanceof PalimpsestFunction)
        Annotations.of(node).acknowledgeWarning("palimpsest:bundling-off");
    },
  });
  return app;
}

/** A bare stack in a fresh app, for construct-level tests. */
export function newStack(id = "Test"): Stack {
  return new Stack(newApp(), id);
}

/** Synthesizes both Palimpsest stacks with bundling off. */
export function synthPalimpsest(options: PalimpsestAppOptions = {}, appProps: AppProps = {}) {
  const app = newApp(appProps);
  const stacks = addPalimpsestStacks(app, { bundling: false, ...options });
  return {
    app,
    ...stacks,
    storageTemplate: Template.fromStack(stacks.storage),
    serviceTemplate: Template.fromStack(stacks.service),
  };
}

/** One IAM statement as synthesized, with actions and resources normalised to arrays. */
export interface Statement {
  effect: string;
  actions: string[];
  resources: unknown[];
}

const asArray = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** Every statement of every AWS::IAM::Policy attached to `fn`'s role (managed policies excluded). */
export function statementsOf(template: Template, fn: LambdaFunction): Statement[] {
  if (!fn.role) throw new Error(`${fn.node.path} has no role`);
  const stack = Stack.of(fn);
  const roleId = stack.getLogicalId(fn.role.node.defaultChild as CfnElement);
  const policies = Object.values(template.findResources("AWS::IAM::Policy")) as Array<{
    Properties: {
      Roles: Array<{ Ref?: string }>;
      PolicyDocument: { Statement: Array<{ Effect: string; Action: string | string[]; Resource: unknown }> };
    };
  }>;
  return policies
    .filter((policy) => policy.Properties.Roles.some((role) => role.Ref === roleId))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement)
    .map((s) => ({ effect: s.Effect, actions: asArray(s.Action), resources: asArray(s.Resource) }));
}

/** The actions `fn`'s inline policies allow. */
export function allowedActions(template: Template, fn: LambdaFunction): Set<string> {
  return new Set(
    statementsOf(template, fn)
      .filter((s) => s.effect === "Allow")
      .flatMap((s) => s.actions),
  );
}

/** The logical id of an L2 construct's CloudFormation resource (its default child). */
export function logicalIdOf(construct: IConstruct): string {
  const resource = construct.node.defaultChild;
  if (!resource) throw new Error(`${construct.node.path} has no default child`);
  return Stack.of(construct).getLogicalId(resource as CfnElement);
}

/**
 * Whether `value` (a property of a resource in one stack's template) refers to `token` of a
 * construct in `producer` (whose synthesized template is `producerTemplate`): directly when both are in one stack, otherwise through the output
 * that `producer` publishes for it (cdk.json makes cross-stack references weak: Fn::GetStackOutput).
 */
export function refersTo(
  value: unknown,
  producer: Stack,
  producerTemplate: Template,
  token: string,
): boolean {
  const resolved = producer.resolve(token);
  if (isDeepStrictEqual(value, resolved)) return true;
  const imported = (value as { "Fn::GetStackOutput"?: { StackName?: string; OutputName?: string } })?.[
    "Fn::GetStackOutput"
  ];
  if (imported?.StackName !== producer.stackName || imported.OutputName === undefined) return false;
  const outputs = (producerTemplate.toJSON().Outputs ?? {}) as Record<string, { Value: unknown }>;
  return isDeepStrictEqual(outputs[imported.OutputName]?.Value, resolved);
}
