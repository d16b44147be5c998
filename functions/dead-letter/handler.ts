/**
 * Dead-letter Lambda: records each capture SQS gave up on as failed
 * (functions/dead-letter/dead-letter-batch.ts). Wired once per container at init from the
 * environment (functions/compose/dead-letter.ts).
 */
import { deadLetterFromEnvironment } from "../compose/dead-letter.ts";

export const handler = deadLetterFromEnvironment();
