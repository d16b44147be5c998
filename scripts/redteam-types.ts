/** The shapes `npm run redteam` shares with the modules that add attacks to it (redteam.ts). */
import type { LocalRunner } from "../local/runner.ts";
import type { ArchiveRepository } from "../shared/ports.ts";
import type { FixtureSite } from "../test/support/fixture-site.ts";

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
  /** The artifacts of the capture of a page whose snapshot is over 5 MB (redteam-pages.ts). */
  heavy?: Record<string, ArtifactLink>;
  /** The runner's API_KEY: requests meant to be let in send it as `x-api-key`. */
  apiKey: string;
  /** What the queue attacks found when the runner restarted on damaged queue files. */
  restart: {
    error?: unknown;
    quarantined: number;
    damagedCaptureStatus?: string;
    /** Captures whose messages were left at the receive limit for the two workers to race on. */
    atLimit: string[];
  };
  /** The loopback site the captures read (hostile pages included: test/support/hostile-pages.ts). */
  site: FixtureSite;
  /** The runner's archive, read directly (a capture's attempts are not in the API). */
  repository: ArchiveRepository;
  /** Environment for another runner of this redteam (`npm start` in a child process). */
  runnerEnv: Record<string, string>;
  /** POSTs `url` as a capture (with the key) and resolves with its id. */
  submit(url: string): Promise<string>;
  /** The capture as the API shows it, once it has ended (or when `timeoutMs` has passed). */
  waitFor(captureId: string, timeoutMs: number): Promise<CaptureView>;
}

/** A capture as `GET /v1/captures/{id}` returns it. */
export interface CaptureView {
  status: string;
  artifacts?: Record<string, ArtifactLink>;
  error?: { code: string; message: string };
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
