/**
 * Poll Lambda: SQS batch of poll jobs in, partial batch failures out (functions/poll/poll-batch.ts).
 * Wired once per container at init from the environment (functions/compose/poll.ts).
 */
import { pollFromEnvironment } from "../compose/poll.ts";

export const handler = pollFromEnvironment();
