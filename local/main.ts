/** `npm start`: Palimpsest on one machine, with its data under DATA_DIR. */
import { startLocalRunner } from "./runner.ts";

const started = performance.now();
const port = Number(process.env.PORT ?? 3000);
const dataDir = process.env.DATA_DIR ?? "./.palimpsest";
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be a port number, not "${process.env.PORT}".`);
  process.exit(1);
}
const concurrency = Number(process.env.WORKER_CONCURRENCY ?? 1);

const runner = await startLocalRunner({ dataDir, port, workerConcurrency: concurrency }).catch(
  (err: unknown) => {
    // One line saying what is wrong and what to do (the errors' messages do both); no stack trace.
    const message = (err as Error)?.message ?? String(err);
    console.error(`Palimpsest could not start: ${message.replace(/\s*\n\s*/g, " ")}`);
    process.exit(1);
  },
);
console.log(
  `Palimpsest is running at ${runner.url} (data in ${dataDir}, started in ${Math.round(performance.now() - started)} ms)`,
);

let closing = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (closing) process.exit(1);
    closing = true;
    console.log("Stopping: finishing the capture in progress…");
    runner.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
