/**
 * One Lambda execution environment for a shipped bundle: a fresh `node` child process (the Node the
 * repository pins, in node_modules/node/bin) running lambda-runtime.ts with the function's asset as
 * its task root, an environment built only from what it is given (nothing leaks in from the test
 * process) and a `/tmp` of its own. Invocations go over IPC; the function's output is kept for
 * failure messages.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readdirSync, readlinkSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { SerializedError } from "./lambda-runtime.ts";

const RUNTIME_SCRIPT = fileURLToPath(new URL("./lambda-runtime.ts", import.meta.url));
const NODE_BIN = fileURLToPath(new URL("../../node_modules/node/bin/", import.meta.url));
/** How much of the function's stdout and stderr is kept for failure messages. */
const MAX_LOG_CHARS = 200_000;
/** Lambda's init phase gets at most 10 s; a cold import that takes longer is a failure in itself. */
const INIT_TIMEOUT_MS = 10_000;
/** Slack above the function's timeout for the child to report back. */
const TIMEOUT_GRACE_MS = 5_000;

export interface LambdaContainerOptions {
  /** The function's name (AWS_LAMBDA_FUNCTION_NAME). */
  functionName: string;
  /** The asset directory (LAMBDA_TASK_ROOT). */
  taskRoot: string;
  /** `<module>.<export>`, as the template's `Handler`. */
  handler: string;
  /** The function's timeout, in seconds, as the template's `Timeout`. */
  timeoutSeconds: number;
  memoryMiB: number;
  /** The function's environment: the template's variables plus the test's own (endpoints, credentials). */
  environment: Readonly<Record<string, string>>;
}

export type InvocationOutcome =
  | { ok: true; result: unknown; durationMs: number }
  | { ok: false; error: SerializedError; durationMs: number };

export interface LambdaContainer {
  readonly functionName: string;
  /** The runtime process (the one that runs the handler, and Chromium's parent), for reading its /proc. */
  readonly pid: number | undefined;
  /** Everything the function printed so far (the tail, past {@link MAX_LOG_CHARS}). */
  logs(): string;
  /** The packages its code has loaded from outside its asset so far: only what the runtime provides. */
  runtimeModules(): readonly string[];
  /** Runs one invocation and resolves with its result or error; rejects if the environment dies or times out. */
  invoke(event: unknown): Promise<InvocationOutcome>;
  /** Invokes and returns the result, throwing (with the function's logs) on a function error. */
  invokeOk<T = unknown>(event: unknown): Promise<T>;
  /** Shuts the environment down and removes its /tmp. */
  close(): Promise<void>;
}

type ChildMessage =
  | { type: "ready"; fromRuntime: string[] }
  | { type: "init-error"; error: SerializedError }
  | { type: "result"; id: number; ok: true; result: unknown; fromRuntime: string[] }
  | { type: "result"; id: number; ok: false; error: SerializedError; fromRuntime: string[] };

/**
 * Kills what the environment left running from its /tmp (Chromium, which @sparticuz/chromium
 * inflates there): after a hard kill, nothing would end the browser Playwright launched.
 */
function killProcessesRunningFrom(dir: string): void {
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return; // no procfs: nothing to look at
  }
  for (const pid of pids) {
    try {
      if (readlinkSync(`/proc/${pid}/exe`).startsWith(`${dir}${path.sep}`))
        process.kill(Number(pid), "SIGKILL");
    } catch {
      // gone already, or not ours to read
    }
  }
}

/** Starts an execution environment and waits for the function's init (the module import) to finish. */
export async function startLambdaContainer(options: LambdaContainerOptions): Promise<LambdaContainer> {
  const tmp = await mkdtemp(path.join(tmpdir(), `lambda-${options.functionName}-`));
  let output = "";
  const append = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-MAX_LOG_CHARS);
  };
  const child: ChildProcess = spawn(path.join(NODE_BIN, "node"), [RUNTIME_SCRIPT], {
    cwd: options.taskRoot,
    env: {
      // Lambda's own variables (the ones the runtime sets; AWS_EXECUTION_ENV is left out on purpose:
      // @sparticuz/chromium would then unpack Amazon Linux's libraries over this machine's).
      PATH: `${NODE_BIN}:/usr/local/bin:/usr/bin:/bin`,
      LANG: "en_US.UTF-8",
      TZ: ":UTC",
      TMPDIR: tmp,
      LAMBDA_TASK_ROOT: options.taskRoot,
      _HANDLER: options.handler,
      AWS_LAMBDA_FUNCTION_NAME: options.functionName,
      AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(options.memoryMiB),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${options.functionName}`,
      AWS_LAMBDA_LOG_STREAM_NAME: `local/[$LATEST]${randomUUID().replaceAll("-", "")}`,
      ...options.environment,
    },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  child.stdout?.on("data", append);
  child.stderr?.on("data", append);

  let nextId = 0;
  const pending = new Map<number, (message: ChildMessage) => void>();
  let exited: string | undefined;
  const exitWaiters: Array<() => void> = [];
  let onReady: ((message: ChildMessage) => void) | undefined;

  let fromRuntime: readonly string[] = [];
  child.on("message", (message: ChildMessage) => {
    if ("fromRuntime" in message) fromRuntime = message.fromRuntime;
    if (message.type === "result") pending.get(message.id)?.(message);
    else onReady?.(message);
  });
  child.on("exit", (code, signal) => {
    exited = `exited with ${signal ?? `code ${code}`}`;
    for (const waiter of exitWaiters.splice(0)) waiter();
  });

  const describeFailure = (what: string) =>
    `${options.functionName}: ${what}\n--- function output (tail) ---\n${output.slice(-20_000)}`;

  const waitForExit = (timeoutMs: number) =>
    new Promise<boolean>((resolve) => {
      if (exited !== undefined) {
        resolve(true);
        return;
      }
      const timer = setTimeout(() => resolve(false), timeoutMs);
      exitWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });

  const close = async () => {
    if (exited === undefined) {
      if (child.connected) child.disconnect();
      if (!(await waitForExit(5_000))) {
        child.kill("SIGKILL");
        await waitForExit(5_000);
      }
    }
    killProcessesRunningFrom(tmp);
    await rm(tmp, { recursive: true, force: true });
  };

  // Init: the import of the function's module, with Lambda's 10 s budget.
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(describeFailure(`init did not finish within ${INIT_TIMEOUT_MS} ms`))),
        INIT_TIMEOUT_MS,
      );
      exitWaiters.push(() => reject(new Error(describeFailure(`init failed: the process ${exited}`))));
      child.once("error", (err) => reject(err));
      onReady = (message) => {
        clearTimeout(timer);
        if (message.type === "ready") resolve();
        else if (message.type === "init-error") {
          reject(
            new Error(
              describeFailure(`init failed: ${message.error.errorType}: ${message.error.errorMessage}`),
            ),
          );
        }
      };
    });
  } catch (err) {
    await close();
    throw err;
  }
  exitWaiters.splice(0);

  const invoke = (event: unknown) =>
    new Promise<InvocationOutcome>((resolve, reject) => {
      if (exited !== undefined) {
        reject(new Error(describeFailure(`the execution environment ${exited}`)));
        return;
      }
      const id = nextId++;
      const started = Date.now();
      const deadlineMs = started + options.timeoutSeconds * 1000;
      const timer = setTimeout(
        () => {
          pending.delete(id);
          child.kill("SIGKILL");
          reject(new Error(describeFailure(`Task timed out after ${options.timeoutSeconds} s`)));
        },
        options.timeoutSeconds * 1000 + TIMEOUT_GRACE_MS,
      );
      const onExit = () => {
        clearTimeout(timer);
        pending.delete(id);
        reject(new Error(describeFailure(`the execution environment ${exited} during an invocation`)));
      };
      exitWaiters.push(onExit);
      pending.set(id, (message) => {
        clearTimeout(timer);
        pending.delete(id);
        const waiting = exitWaiters.indexOf(onExit);
        if (waiting >= 0) exitWaiters.splice(waiting, 1);
        if (message.type !== "result") return;
        const durationMs = Date.now() - started;
        resolve(
          message.ok
            ? { ok: true, result: message.result, durationMs }
            : { ok: false, error: message.error, durationMs },
        );
      });
      child.send({
        type: "invoke",
        id,
        event,
        requestId: randomUUID(),
        deadlineMs,
        traceId: `Root=1-${Math.floor(started / 1000).toString(16)}-${randomUUID().replaceAll("-", "").slice(0, 24)};Sampled=0`,
      });
    });

  return {
    functionName: options.functionName,
    pid: child.pid,
    logs: () => output,
    runtimeModules: () => fromRuntime,
    invoke,
    async invokeOk<T>(event: unknown) {
      const outcome = await invoke(event);
      if (!outcome.ok) {
        throw new Error(
          describeFailure(
            `invocation failed: ${outcome.error.errorType}: ${outcome.error.errorMessage}\n${outcome.error.stackTrace.join("\n")}`,
          ),
        );
      }
      return outcome.result as T;
    },
    close,
  };
}
