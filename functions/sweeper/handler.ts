/**
 * Sweeper Lambda, invoked by EventBridge Scheduler every few minutes (functions/sweeper/sweep-handler.ts).
 * Wired once per container at init from the environment (functions/compose/sweeper.ts).
 */
import { sweeperFromEnvironment } from "../compose/sweeper.ts";

export type { SweepEvent, SweepOutcome } from "./sweep-handler.ts";
export const handler = sweeperFromEnvironment();
