/** The shapes `npm run redteam` shares with the modules that add attacks to it (redteam.ts). */
import type { LocalRunner } from "../local/runner.ts";

/** A link to an artifact as the API returns it. */
export interface ArtifactLink {
  url: string;
  sha256: string;
  bytes: number;
  contentType: string;
}

/** What an attack can use: the running runner, its DATA_DIR, and artifacts of a real capture. */
export interface RedteamContext {
  runner: LocalRunner;
  dataDir: string;
  /** The page that capture archived (served on loopback by the script). */
  capturedUrl: string;
  /** The artifacts of a finished capture (`raw`, `snapshot`, …). */
  artifacts: Record<string, ArtifactLink>;
  /** The runner's API_KEY: requests meant to be let in send it as `x-api-key`. */
  apiKey: string;
  /** What the queue attacks found when the runner restarted on damaged queue files. */
  restart: { error?: unknown; quarantined: number; damagedCaptureStatus?: string };
}

/** `refused: true` when the runner held; `detail` says what happened either way. */
export interface AttackOutcome {
  refused: boolean;
  detail: string;
}

export interface Attack {
  area: string;
  name: string;
  run(ctx: RedteamContext): Promise<AttackOutcome>;
}
