/** `npm start`: Palimpsest on one machine, with its data under DATA_DIR. */
import { loadLocalConfig } from "../shared/config.ts";
import { startLocalRunner } from "./runner.ts";

const started = performance.now();

/** One line saying what is wrong and what to do (the errors' messages do both); no stack trace. */
function refuse(err: unknown): never {
  const message = (err as Error)?.message ?? String(err);
  console.error(`Palimpsest could not start: ${message.replace(/\s*\n\s*/g, " ")}`);
  process.exit(1);
}

let config: ReturnType<typeof loadLocalConfig>;
try {
  config = loadLocalConfig();
} catch (err) {
  refuse(err);
}
const { port, dataDir, workerConcurrency, replayPort } = config;
const runner = await startLocalRunner({ dataDir, port, workerConcurrency, replayPort }).catch(refuse);
console.log(
  `Palimpsest is running at ${runner.url} (data in ${dataDir}, started in ${Math.round(performance.now() - started)} ms)`,
);
console.log(`Evidence replays are served from ${runner.replayUrl} (an origin of their own)`);

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
