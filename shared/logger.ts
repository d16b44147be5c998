/**
 * One structured logger: Powertools for AWS Lambda's Logger (JSON lines with `level`, `message`,
 * `timestamp`, `service`, and on Lambda the X-Ray trace id), behind the small `Logger` port the
 * domain sees. Log ids, sizes and durations — never whole events or page HTML.
 */
import { Logger as PowertoolsLogger } from "@aws-lambda-powertools/logger";
import type { LogLevel } from "./config.ts";
import { mapStack } from "./stack-map.ts";

export type LogFields = Record<string, unknown>;

/** What the domain and the adapters log through; they never see Powertools itself. */
export interface Logger {
  /** The level it writes at: what else the process prints (metrics) follows it locally. */
  readonly level: LogLevel;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

/** Errors as plain fields: name, message, stable `code`, a short stack and the `cause` chain. */
function serialiseError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const out: LogFields = { name: err.name, message: err.message };
  if ("code" in err) out.code = (err as { code: unknown }).code;
  if (err.stack) out.stack = mapStack(err.stack.split("\n").slice(0, 6).join("\n"));
  if (err.cause) out.cause = serialiseError(err.cause);
  return out;
}

function withErrors(fields: LogFields | undefined): LogFields {
  if (!fields) return {};
  // `err` keeps the shape the hand-written logger gave it, so log queries written for it still work.
  return "err" in fields ? { ...fields, err: serialiseError(fields.err) } : fields;
}

function adapt(powertools: PowertoolsLogger, level: LogLevel): Logger {
  return {
    level,
    debug: (msg, fields) => powertools.debug(msg, withErrors(fields)),
    info: (msg, fields) => powertools.info(msg, withErrors(fields)),
    warn: (msg, fields) => powertools.warn(msg, withErrors(fields)),
    error: (msg, fields) => powertools.error(msg, withErrors(fields)),
    // Powertools merges the parent's keys into the child's.
    child: (fields) => adapt(powertools.createChild({ persistentKeys: fields }), level),
  };
}

/**
 * A logger whose every line carries `base` (`service` becomes Powertools' service name). The level
 * comes from config (LOG_LEVEL, read in config.ts); `silent` is for tests.
 */
export function createLogger(base: LogFields = {}, level: LogLevel = "info"): Logger {
  const { service, ...rest } = base;
  return adapt(
    new PowertoolsLogger({
      serviceName: typeof service === "string" ? service : "palimpsest",
      logLevel: level === "silent" ? "SILENT" : (level.toUpperCase() as "DEBUG" | "INFO" | "WARN" | "ERROR"),
      persistentKeys: rest,
    }),
    level,
  );
}

/** What the logger takes from an invocation's context (Lambda's, or the local runner's). */
export interface InvocationContext {
  functionName: string;
  awsRequestId: string;
}

let coldStart = true;

/**
 * The logger for one invocation: Powertools' Lambda keys (`cold_start`, `function_name`,
 * `function_request_id`) and the `correlation_id` that ties a capture's worker lines to the API
 * request that asked for it. Cold start is counted per process, which is what a Lambda execution
 * environment is; kept here rather than in a shared Powertools instance because the local runner
 * serves several invocations at once.
 */
export function invocationLogger(logger: Logger, context: InvocationContext, correlationId?: string): Logger {
  const first = coldStart;
  coldStart = false;
  return logger.child({
    cold_start: first,
    function_name: context.functionName,
    function_request_id: context.awsRequestId,
    ...(correlationId ? { correlation_id: correlationId } : {}),
  });
}

let processLogger: Logger | undefined;

/**
 * A process-wide logger, at "info", for an API handler built without one (tests that build it
 * directly). Composed functions get theirs from the composition root, at the configured level.
 * Created on first use, not at import: a Powertools Logger costs the API's cold start a few
 * milliseconds of CPU, and a composed function never needs this one.
 */
export function defaultLogger(): Logger {
  processLogger ??= createLogger({ service: "palimpsest" });
  return processLogger;
}
