/** `node local/main.ts` as `npm start` runs it, in a child process a test can kill -9. */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface NpmStart {
  url: string;
  process: ChildProcess;
}

/**
 * Starts the runner with the environment given on top of this process's (PORT 0 unless given)
 * and resolves with its URL once it listens; rejects if it exits first.
 */
export function startNpmStart(env: Record<string, string>): Promise<NpmStart> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ["local/main.ts"], {
      cwd: REPO_ROOT,
      env: { ...process.env, PORT: "0", ...env },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    proc.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = /running at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (match?.[1]) resolve({ url: match[1], process: proc });
    });
    proc.once("exit", (code) => reject(new Error(`server exited early with ${code}: ${out}`)));
  });
}

/** kill -9, resolved once the process is gone. */
export async function killHard(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((resolve) => proc.once("exit", resolve));
  proc.kill("SIGKILL");
  await exited;
}
