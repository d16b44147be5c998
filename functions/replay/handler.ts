/**
 * Replay Lambda, behind its function URL: serves ReplayWeb.page on an origin of its own
 * (functions/compose/replay.ts). Wired once per container at init from the environment.
 */
import { replayFromEnvironment } from "../compose/replay.ts";

export const handler = replayFromEnvironment();
