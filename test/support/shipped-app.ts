/**
 * The Palimpsest app synthesized as `cdk synth` builds it for a deploy — bundling on: esbuild
 * bundles, and `npm ci` of the capture function's unbundled packages into its asset — read back
 * from the cloud assembly on disk: the templates, and for each function its asset directory, its
 * handler and its environment, with the references in it resolved against stand-ins for the
 * resources.
 *
 * The assembly goes under the repository's cdk.out/ (not the system temp directory) so that what a
 * bundle leaves external and the Lambda runtime would provide (`@aws-sdk/*`) resolves from the
 * repository's node_modules, as it would from the runtime's.
 */
import { readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { App } from "aws-cdk-lib";
import { REPO_ROOT } from "../../infra/constructs/defaults.ts";
import { addPalimpsestStacks } from "../../infra/palimpsest-app.ts";
import type { PalimpsestServiceStack } from "../../infra/stacks/service-stack.ts";
import type { PalimpsestStorageStack } from "../../infra/stacks/storage-stack.ts";
import { cdkJsonContext, logicalIdOf } from "../infra/synth.ts";

const OUTDIR_PREFIX = "shipped-bundles-test-";

/** A CloudFormation template, as far as these tests read it. */
export interface Template {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  Outputs?: Record<string, { Value: unknown; Export?: { Name: unknown } }>;
}

/** What a template references: the stand-ins answer `Ref` and `Fn::GetAtt` for its resources. */
export interface PhysicalResources {
  ref(stackName: string, logicalId: string): string;
  getAtt(stackName: string, logicalId: string, attribute: string): string;
}

/** One Lambda function as synthesized. */
export interface ShippedFunction {
  stackName: string;
  logicalId: string;
  /** The asset directory, `<outdir>/asset.<hash>`: what is zipped and deployed. */
  assetDir: string;
  /** `<module>.<export>` */
  handler: string;
  runtime: string;
  timeoutSeconds: number;
  memoryMiB: number;
  /** `Environment.Variables` as synthesized (values may hold references). */
  environment: Record<string, unknown>;
  /** The queues that invoke it (its `AWS::Lambda::EventSourceMapping`s). */
  eventSources: Array<{
    /** The queue's ARN as synthesized (a reference). */
    eventSourceArn: unknown;
    batchSize: number;
    reportBatchItemFailures: boolean;
  }>;
  /** The EventBridge Scheduler schedules that invoke it, with the input they send. */
  schedules: Array<{ expression: string; input: string }>;
}

export interface ShippedApp {
  outdir: string;
  /** Templates by stack name. */
  templates: ReadonlyMap<string, Template>;
  functions: {
    api: ShippedFunction;
    capture: ShippedFunction;
    deadLetter: ShippedFunction;
    sweeper: ShippedFunction;
  };
  storage: PalimpsestStorageStack;
  service: PalimpsestServiceStack;
  /** Evaluates the intrinsic functions in a template value, as CloudFormation would on deploy. */
  resolve(stackName: string, value: unknown, physical: PhysicalResources): string;
  /** Removes the cloud assembly. */
  remove(): void;
}

interface Manifest {
  artifacts: Record<
    string,
    { type: string; properties?: { templateFile?: string; file?: string; stackName?: string } }
  >;
}

interface AssetManifest {
  files?: Record<
    string,
    {
      source: { path: string; packaging?: string };
      destinations: Record<string, { objectKey: string }>;
    }
  >;
}

/** Removes assemblies that earlier runs left behind (killed before their cleanup), never a live run's. */
function removeStaleOutdirs(cdkOut: string): void {
  let names: string[];
  try {
    names = readdirSync(cdkOut);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(OUTDIR_PREFIX)) continue;
    const pid = Number(name.slice(OUTDIR_PREFIX.length));
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
    } catch {
      rmSync(path.join(cdkOut, name), { recursive: true, force: true });
    }
  }
}

/**
 * Synthesizes both stacks with bundling on (the path `cdk synth` and `cdk deploy` take, with
 * cdk.json's feature flags) into `cdk.out/shipped-bundles-test-<pid>`.
 */
export function synthShippedApp(): ShippedApp {
  const cdkOut = path.join(REPO_ROOT, "cdk.out");
  removeStaleOutdirs(cdkOut);
  const outdir = path.join(cdkOut, `${OUTDIR_PREFIX}${process.pid}`);
  rmSync(outdir, { recursive: true, force: true });
  const app = new App({ outdir, context: cdkJsonContext() });
  // The trail's log bucket has no local stand-in, and CloudTrail runs nothing here to test.
  const { storage, service } = addPalimpsestStacks(app, { bundling: true, storage: { trail: false } });
  try {
    app.synth();
  } catch (err) {
    rmSync(outdir, { recursive: true, force: true });
    throw err;
  }

  const readJson = <T>(file: string): T => JSON.parse(readFileSync(path.join(outdir, file), "utf8")) as T;
  const manifest = readJson<Manifest>("manifest.json");
  const templates = new Map<string, Template>();
  /** S3 object key of each file asset → its directory in the assembly. */
  const assetDirs = new Map<string, string>();
  for (const [id, artifact] of Object.entries(manifest.artifacts)) {
    if (artifact.type === "aws:cloudformation:stack" && artifact.properties?.templateFile) {
      templates.set(
        artifact.properties.stackName ?? id,
        readJson<Template>(artifact.properties.templateFile),
      );
    }
    if (artifact.type === "cdk:asset-manifest" && artifact.properties?.file) {
      for (const asset of Object.values(readJson<AssetManifest>(artifact.properties.file).files ?? {})) {
        for (const destination of Object.values(asset.destinations)) {
          assetDirs.set(destination.objectKey, path.join(outdir, asset.source.path));
        }
      }
    }
  }

  const functionOf = (stackName: string, logicalId: string): ShippedFunction => {
    const resource = templates.get(stackName)?.Resources[logicalId];
    if (resource?.Type !== "AWS::Lambda::Function") {
      throw new Error(`${stackName}/${logicalId} is not an AWS::Lambda::Function in the template`);
    }
    const props = resource.Properties as {
      Code: { S3Key?: string; ZipFile?: string };
      Handler: string;
      Runtime: string;
      Timeout?: number;
      MemorySize?: number;
      Environment?: { Variables?: Record<string, unknown> };
    };
    const key = props.Code.S3Key;
    const assetDir = key === undefined ? undefined : assetDirs.get(key);
    if (!assetDir) {
      throw new Error(
        `${stackName}/${logicalId}: no bundled asset for Code ${JSON.stringify(props.Code)} (bundling off?)`,
      );
    }
    const resources = Object.values(templates.get(stackName)?.Resources ?? {});
    const eventSources = resources
      .filter((r) => r.Type === "AWS::Lambda::EventSourceMapping")
      .map((r) => r.Properties as Record<string, unknown>)
      .filter((p) => isDeepStrictEqual(p.FunctionName, { Ref: logicalId }))
      .map((p) => ({
        eventSourceArn: p.EventSourceArn,
        // The SQS default when BatchSize is absent.
        batchSize: typeof p.BatchSize === "number" ? p.BatchSize : 10,
        reportBatchItemFailures:
          Array.isArray(p.FunctionResponseTypes) &&
          p.FunctionResponseTypes.includes("ReportBatchItemFailures"),
      }));
    const schedules = resources
      .filter((r) => r.Type === "AWS::Scheduler::Schedule")
      .map((r) => r.Properties as { ScheduleExpression: string; Target: { Arn: unknown; Input?: string } })
      .filter((p) => isDeepStrictEqual(p.Target.Arn, { "Fn::GetAtt": [logicalId, "Arn"] }))
      .map((p) => ({ expression: p.ScheduleExpression, input: p.Target.Input ?? "{}" }));
    return {
      stackName,
      logicalId,
      assetDir,
      handler: props.Handler,
      runtime: props.Runtime,
      // CloudFormation's defaults when the properties are absent.
      timeoutSeconds: props.Timeout ?? 3,
      memoryMiB: props.MemorySize ?? 128,
      environment: props.Environment?.Variables ?? {},
      eventSources,
      schedules,
    };
  };
  const serviceName = service.stackName;

  const splitOf = (stackName: string, arg: unknown, physical: PhysicalResources): string[] => {
    if (!Array.isArray(arg) || arg.length !== 2) throw new Error(`${stackName}: malformed Fn::Split`);
    return resolve(stackName, arg[1], physical).split(String(arg[0]));
  };
  const resolve = (stackName: string, value: unknown, physical: PhysicalResources): string => {
    if (typeof value === "string") return value;
    if (typeof value === "number" || typeof value === "boolean") return String(value);
    const entries = value && typeof value === "object" ? Object.entries(value) : [];
    const [fn, arg] = entries.length === 1 ? (entries[0] as [string, unknown]) : [undefined, undefined];
    const template = templates.get(stackName);
    if (fn === "Ref" && typeof arg === "string") {
      const pseudo = PSEUDO_PARAMETERS[arg];
      return pseudo ?? physical.ref(stackName, arg);
    }
    if (fn === "Fn::GetAtt" && Array.isArray(arg) && arg.length === 2) {
      return physical.getAtt(stackName, String(arg[0]), String(arg[1]));
    }
    if (fn === "Fn::GetStackOutput") {
      const { StackName, OutputName } = arg as { StackName: string; OutputName: string };
      const output = templates.get(StackName)?.Outputs?.[OutputName];
      if (!output)
        throw new Error(`${stackName} reads output ${StackName}.${OutputName}, which does not exist`);
      return resolve(StackName, output.Value, physical);
    }
    if (fn === "Fn::ImportValue") {
      const name = resolve(stackName, arg, physical);
      for (const [producer, other] of templates) {
        for (const output of Object.values(other.Outputs ?? {})) {
          if (output.Export && resolve(producer, output.Export.Name, physical) === name) {
            return resolve(producer, output.Value, physical);
          }
        }
      }
      throw new Error(`${stackName} imports ${name}, which no stack exports`);
    }
    if (fn === "Fn::Select" && Array.isArray(arg) && arg.length === 2) {
      const list = arg[1] as unknown;
      const items =
        list && typeof list === "object" && "Fn::Split" in list
          ? splitOf(stackName, (list as { "Fn::Split": unknown })["Fn::Split"], physical)
          : (list as unknown[]).map((item) => resolve(stackName, item, physical));
      const picked = items[Number(arg[0])];
      if (picked === undefined) throw new Error(`${stackName}: Fn::Select ${arg[0]} is out of range`);
      return picked;
    }
    if (fn === "Fn::Join" && Array.isArray(arg) && arg.length === 2 && Array.isArray(arg[1])) {
      return (arg[1] as unknown[]).map((part) => resolve(stackName, part, physical)).join(String(arg[0]));
    }
    if (fn === "Fn::Sub" && typeof arg === "string") {
      return arg.replace(/\$\{([^}!]+)\}/g, (_, name: string) => {
        const [id = "", attribute] = name.split(".");
        return attribute === undefined
          ? resolve(stackName, { Ref: id }, physical)
          : physical.getAtt(stackName, id, attribute);
      });
    }
    throw new Error(
      `${stackName}: cannot resolve ${JSON.stringify(value)}${template ? "" : " (unknown stack)"}`,
    );
  };

  return {
    outdir,
    templates,
    functions: {
      api: functionOf(serviceName, logicalIdOf(service.apiFunction)),
      capture: functionOf(serviceName, logicalIdOf(service.captureFunction)),
      deadLetter: functionOf(serviceName, logicalIdOf(service.deadLetterFunction)),
      sweeper: functionOf(serviceName, logicalIdOf(service.sweeperFunction)),
    },
    storage,
    service,
    resolve,
    remove: () => rmSync(outdir, { recursive: true, force: true }),
  };
}

/** The pseudo parameters of the account the stand-ins play. */
export const LOCAL_REGION = "us-east-1";
export const LOCAL_ACCOUNT = "123456789012";
const PSEUDO_PARAMETERS: Record<string, string> = {
  "AWS::Region": LOCAL_REGION,
  "AWS::AccountId": LOCAL_ACCOUNT,
  "AWS::Partition": "aws",
  "AWS::URLSuffix": "amazonaws.com",
};
