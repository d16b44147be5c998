/**
 * Custom-resource Lambda of the replay origin: puts and removes the archive bucket's CORS rule for
 * the replay origin, by its ID, leaving other rules alone (functions/compose/replay-bucket-cors.ts).
 */
import { replayBucketCorsFromEnvironment } from "../compose/replay-bucket-cors.ts";

export const handler = replayBucketCorsFromEnvironment();
