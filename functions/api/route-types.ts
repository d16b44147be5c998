/**
 * The shapes every route table shares. routes.ts gathers the tables of feeds.ts, memento.ts and
 * web-ui/routes.ts; they all take these types from here, so no table imports the module that
 * gathers it.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import type { CadenceStep } from "../../shared/domain/schedule.ts";
import type { SubmitCaptureDeps } from "../../shared/domain/submit-capture.ts";
import type { Logger } from "../../shared/logger.ts";
import type {
  BlobReader,
  EvidenceSigner,
  HttpFetcher,
  PollQueue,
  SourceRepository,
} from "../../shared/ports.ts";

/** What following outlets adds to the API's dependencies. */
export interface FollowingDeps {
  sources: SourceRepository;
  fetcher: HttpFetcher;
  pollQueue: PollQueue;
}

/** What the API's routes work with: the ports they read and write, and its settings. */
export interface ApiDeps extends SubmitCaptureDeps {
  blobs: BlobReader;
  presignedUrlTtlSeconds: number;
  /** When set, requests must carry it in `x-api-key` (the local runner; API Gateway checks keys on AWS). */
  apiKey?: string | undefined;
  /** The adaptive re-capture curve. @default DEFAULT_CADENCE */
  cadence?: readonly CadenceStep[];
  /** Browser origins allowed by CORS (`["*"]` for any). @default - CORS off */
  corsAllowOrigins?: readonly string[] | undefined;
  /** The key that signs evidence packages, published at `GET /v1/signing-key`. @default - none (404) */
  signer?: Pick<EvidenceSigner, "publicKey">;
  /** Following outlets (`/v1/sources…`). @default - those routes answer 501 */
  following?: FollowingDeps;
  /** Whether the web UI's forms may change sources and noise rules (see `ApiConfig.sourceForms`). @default true */
  sourceForms?: boolean;
  /**
   * Signs the web UI's CSRF tokens (web-ui/csrf.ts). The local runner makes one per process.
   * @default - tokens are the cookie's nonce itself (plain double-submit)
   */
  csrfSecret?: Uint8Array | undefined;
  /**
   * `scheme://host[/base]` readers reach the API at, for the absolute links of feeds and Memento
   * (PUBLIC_BASE_URL). Never taken from the request's Host header, which any client can forge.
   * @default - on AWS the domain API Gateway was reached at; elsewhere links stay root-relative
   */
  publicBaseUrl?: string | undefined;
  /**
   * The replay origin (PUBLIC_REPLAY_URL): version pages frame ReplayWeb.page there to replay a
   * WACZ. Never the API's own origin, since a replay runs the archived page's scripts.
   * @default - no replay view; the WACZ is still offered for download
   */
  publicReplayUrl?: string | undefined;
  /** Where routes log what they answer with a 5xx (the composed logger). @default - the process-wide logger */
  logger?: Logger;
}

/** The first capture group of the route's pattern, named for readability. */
type Params = { id?: string; match: RegExpExecArray };

/** Answers one request that matched its route. */
export type RouteHandler = (
  deps: ApiDeps,
  event: APIGatewayProxyEvent,
  params: Params,
) => Promise<APIGatewayProxyResult>;

/**
 * One route. The modules beside routes.ts (the web UI, Memento, feeds) export `Route[]` that its
 * `ROUTES` concatenates; the first route whose pattern and method match answers.
 */
export interface Route {
  method: string;
  pattern: RegExp;
  /** Readable without an API key even when the local runner requires one (pages, feeds, Memento). */
  public?: boolean;
  handle: RouteHandler;
}
