/**
 * Poll Lambda: SQS batch of poll jobs in, partial batch failures out (functions/poll/poll-batch.ts).
 * Wired once per container at init from the environment (functions/compose/workers.ts).
 */
import { pollFromEnvironment } from "../compose/workers.ts";

export const handler = pollFromEnvironment();
