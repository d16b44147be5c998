/**
 * A process that stands in for the capture worker in test/integration/scrub-environ.test.ts: it
 * starts with secrets in its environment, as a Lambda runtime process does, optionally takes them
 * out, then starts a child of its own (as Playwright starts Chromium) that reads this process's
 * `/proc/<ppid>/environ`, the way a compromised renderer would. One JSON line on stdout reports it.
 *
 *   node scrub-environ-child.ts keep    no scrub: the child's view of the untouched environment
 *   node scrub-environ-child.ts scrub   takeSecretsFromEnvironment, then the child's view
 *   node scrub-environ-child.ts worker  the composed capture worker from its environment (which
 *                                       scrubs with SCRUB_ENVIRON=on), the child's view, then one
 *                                       capture record and one blob written with its clients
 *   node scrub-environ-child.ts init    the composed capture worker's parts, nothing more (its
 *                                       init logs are on stdout before the report)
 */
import { spawnSync } from "node:child_process";
import { captureWorkerPartsFromEnvironment } from "../../functions/compose/capture-worker.ts";
import { takeSecretsFromEnvironment } from "../../shared/adapters/scrub-environ.ts";
import { queuedCapture } from "./embedded-storage.ts";

/** What a child of this process reads of its parent's environment: every `NAME=value` entry. */
function environSeenByChild(): string[] {
  const reader = `process.stdout.write(JSON.stringify(require("node:fs").readFileSync("/proc/" + process.ppid + "/environ", "latin1").split("\\0")))`;
  // The child's own environment is empty, as small as the browser's allowlist.
  const read = spawnSync(process.execPath, ["-e", reader], { env: {}, encoding: "utf8" });
  if (read.status !== 0) throw new Error(`the child could not read /proc/<ppid>/environ: ${read.stderr}`);
  return JSON.parse(read.stdout) as string[];
}

const mode = process.argv[2];
if (mode === "keep") {
  process.stdout.write(`${JSON.stringify({ environ: environSeenByChild() })}\n`);
} else if (mode === "scrub") {
  const { credentials, outcome } = takeSecretsFromEnvironment(process.env);
  process.stdout.write(
    `${JSON.stringify({
      environ: environSeenByChild(),
      outcome,
      credentials,
      processEnv: Object.keys(process.env),
    })}\n`,
  );
} else if (mode === "worker") {
  const parts = await captureWorkerPartsFromEnvironment();
  const environ = environSeenByChild();
  const captureId = await queuedCapture(parts.archive.repository, "http://127.0.0.1:9/ferry-timetable");
  const ref = await parts.blobs.putBlob(new TextEncoder().encode(`ferry ${captureId}`), {
    contentType: "text/plain",
    fileName: "ferry.txt",
  });
  const readBack = new TextDecoder().decode(await parts.blobs.getBlob(ref));
  process.stdout.write(`${JSON.stringify({ environ, captureId, ref, readBack })}\n`);
} else if (mode === "init") {
  await captureWorkerPartsFromEnvironment();
  process.stdout.write(`${JSON.stringify({ environ: environSeenByChild() })}\n`);
} else {
  throw new Error(`unknown mode ${mode}`);
}
