/**
 * API Lambda: API Gateway REST events in, JSON out (functions/api/create-handler.ts). Wired once
 * per container at init from the environment (functions/compose/api.ts).
 */
import { apiFromEnvironment } from "../compose/api.ts";

export const handler = apiFromEnvironment();
