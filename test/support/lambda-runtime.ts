/**
 * A stand-in for the Lambda Node.js runtime, run by lambda-container.ts as one "execution
 * environment": a fresh `node` process that loads a function's code from `LAMBDA_TASK_ROOT` the way
 * the runtime does (`_HANDLER` = `<module>.<export>`, the module found as `.js`, `.mjs` or `.cjs`),
 * then runs one invocation per IPC message, in order, with a Lambda-like context.
 *
 * Module resolution is held to what a deployed function can see: a module that the code in the
 * asset imports must resolve inside the asset, except the AWS SDK, which the Lambda runtime
 * provides (here the repository's node_modules, above the asset, stand in for it). Anything else that
 * only resolves because the asset happens to sit inside this repository fails as it would on Lambda.
 *
 * Imports nothing from the repository, so the only Palimpsest code in this process is the bundle.
 *
 *   parent → child: { type: "invoke", id, event, requestId, deadlineMs }
 *   child → parent: { type: "ready", fromRuntime } | { type: "init-error", error }
 *                   | { type: "result", id, ok: true, result, fromRuntime }
 *                   | { type: "result", id, ok: false, error, fromRuntime }
 *
 * `fromRuntime` lists the packages the function's code loaded from outside its asset so far.
 */
import { existsSync, realpathSync } from "node:fs";
import { registerHooks } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

/**
 * What the Lambda runtime puts on a module path of its own: the AWS SDK for JavaScript v3, whose
 * packages depend on (and come with) the `@smithy/*` ones.
 */
const RUNTIME_PROVIDED = /^@(aws-sdk|smithy)\//;
/** The order in which the Node.js runtime looks for the handler module. */
const HANDLER_EXTENSIONS = [".js", ".mjs", ".cjs"];

interface InvokeMessage {
  type: "invoke";
  id: number;
  event: unknown;
  requestId: string;
  /** Epoch milliseconds at which Lambda would stop this invocation. */
  deadlineMs: number;
  traceId: string;
}

export interface SerializedError {
  errorType: string;
  errorMessage: string;
  stackTrace: string[];
}

function serializeError(err: unknown): SerializedError {
  const error = err instanceof Error ? err : new Error(String(err));
  return {
    errorType: error.name,
    errorMessage: error.message,
    stackTrace: (error.stack ?? "").split("\n").slice(1, 30),
  };
}

function send(message: unknown): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!process.send) {
      reject(new Error("lambda-runtime.ts must be started with an IPC channel"));
      return;
    }
    process.send(message, (err: Error | null) => (err ? reject(err) : resolve()));
  });
}

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`lambda-runtime.ts: ${name} must be set`);
  return value;
}

const taskRoot = realpathSync(env("LAMBDA_TASK_ROOT"));
const taskRootUrl = pathToFileURL(`${taskRoot}/`).href;

/** Packages the code in the asset loaded from outside it (the stand-in for the runtime's SDK). */
const fromRuntime = new Set<string>();

registerHooks({
  resolve(specifier, context, nextResolve) {
    const resolved = nextResolve(specifier, context);
    const fromAsset = context.parentURL?.startsWith(taskRootUrl) ?? false;
    if (!fromAsset || !resolved.url.startsWith("file:") || resolved.url.startsWith(taskRootUrl)) {
      return resolved;
    }
    if (!RUNTIME_PROVIDED.test(specifier)) {
      const err = new Error(
        `Cannot find package '${specifier}' imported from ${context.parentURL}: it is not in the ` +
          "function's asset, and the Lambda runtime provides only the AWS SDK (@aws-sdk/*, @smithy/*).",
      );
      throw Object.assign(err, { code: "ERR_MODULE_NOT_FOUND" });
    }
    fromRuntime.add(specifier);
    return resolved;
  },
});

const [moduleName, exportName] = (() => {
  const handler = env("_HANDLER");
  const dot = handler.lastIndexOf(".");
  if (dot <= 0) throw new Error(`_HANDLER ${handler} is not <module>.<export>`);
  return [handler.slice(0, dot), handler.slice(dot + 1)];
})();

type Handler = (event: unknown, context: unknown) => unknown;

async function loadHandler(): Promise<Handler> {
  const file = HANDLER_EXTENSIONS.map((ext) => join(taskRoot, `${moduleName}${ext}`)).find((f) =>
    existsSync(f),
  );
  if (!file) {
    throw Object.assign(new Error(`Cannot find module '${moduleName}' in ${taskRoot}`), {
      name: "Runtime.ImportModuleError",
    });
  }
  const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const handler = module[exportName];
  if (typeof handler !== "function") {
    throw Object.assign(new Error(`${moduleName}.${exportName} is undefined or not exported`), {
      name: "Runtime.HandlerNotFound",
    });
  }
  return handler as Handler;
}

function contextFor(message: InvokeMessage) {
  const functionName = env("AWS_LAMBDA_FUNCTION_NAME");
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: env("AWS_LAMBDA_FUNCTION_VERSION"),
    invokedFunctionArn: `arn:aws:lambda:${env("AWS_REGION")}:000000000000:function:${functionName}`,
    memoryLimitInMB: env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"),
    awsRequestId: message.requestId,
    logGroupName: env("AWS_LAMBDA_LOG_GROUP_NAME"),
    logStreamName: env("AWS_LAMBDA_LOG_STREAM_NAME"),
    getRemainingTimeInMillis: () => Math.max(0, message.deadlineMs - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

let handler: Handler;
try {
  handler = await loadHandler();
} catch (err) {
  await send({ type: "init-error", error: serializeError(err) });
  process.exit(1);
}

// Invocations run one at a time, as in one execution environment.
let queue = Promise.resolve();
process.on("message", (message: InvokeMessage) => {
  if (message?.type !== "invoke") return;
  queue = queue.then(async () => {
    // The runtime sets the trace header for each invocation; the SDK forwards it.
    process.env._X_AMZN_TRACE_ID = message.traceId;
    try {
      const result = await handler(message.event, contextFor(message));
      await send({
        type: "result",
        id: message.id,
        ok: true,
        result: result ?? null,
        fromRuntime: [...fromRuntime],
      });
    } catch (err) {
      await send({
        type: "result",
        id: message.id,
        ok: false,
        error: serializeError(err),
        fromRuntime: [...fromRuntime],
      });
    }
  });
});
// The parent ends the environment by disconnecting, as Lambda shuts an idle one down.
process.on("disconnect", () => process.exit(0));
await send({ type: "ready", fromRuntime: [...fromRuntime] });
