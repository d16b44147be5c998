/**
 * Runs the real `palimpsest` executable (cli/palimpsest.ts) in a child process, for exit codes
 * and what reaches a terminal: the CLI tests and the evidence tests that verify packages with it;
 * and the repository's scripts the same way (the redteam's test).
 */
import { spawn } from "node:child_process";
import { join } from "node:path";

/** The CLI's entry, run by the project's own Node. */
export const CLI = join(import.meta.dirname, "../../cli/palimpsest.ts");

/** What one run printed, and its exit code. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `palimpsest ...argv` with `env` over this process's environment. */
export function runCli(env: Record<string, string>, ...argv: string[]): Promise<CliRun> {
  return runScript(CLI, env, ...argv);
}

/** Runs a TypeScript entry (`scripts/redteam.ts`…) with the project's Node, as `runCli` runs the CLI. */
export function runScript(script: string, env: Record<string, string>, ...argv: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...argv], { env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c;
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c;
    });
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
