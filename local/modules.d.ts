// The embedded servers ship no type declarations; these cover what the local runner uses.
declare module "s3rver" {
  /** The parts of a Koa context the runner's own middleware reads and writes. */
  export interface S3rverContext {
    method: string;
    path: string;
    get(header: string): string;
    status: number;
    type: string;
    body: unknown;
    store: { existsObject(bucket: string, key: string): Promise<boolean> };
  }
  export default class S3rver {
    constructor(options: Record<string, unknown>);
    /** Koa's middleware stack, composed when the server starts. */
    middleware: Array<(ctx: S3rverContext, next: () => Promise<void>) => Promise<void>>;
    run(): Promise<unknown>;
    close(): Promise<void>;
  }
}

declare module "dynalite" {
  import type { Server } from "node:http";
  export default function dynalite(options?: Record<string, unknown>): Server;
}
