/**
 * Capture Lambda: SQS batch in, partial batch failures out (functions/capture/capture-batch.ts).
 * Wired at init from the environment (functions/compose/capture-worker.ts): a bad config fails
 * the cold start, and Chromium unpacks there rather than inside the first capture.
 */
import { captureWorkerFromEnvironment } from "../compose/capture-worker.ts";

export const handler = await captureWorkerFromEnvironment();
