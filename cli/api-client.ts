/**
 * The command line's view of the HTTP API: where it is (`PALIMPSEST_API`), the key it sends
 * (`PALIMPSEST_API_KEY`), and errors a person can act on instead of stack traces.
 */
import { type CliConfig, loadCliConfig } from "../shared/config.ts";
import { ConfigError } from "../shared/errors.ts";
import type { CommandIo } from "./commands.ts";
import { UsageError } from "./commands.ts";

/** The API answered with its error shape; printed as `code: message`. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

/** Nothing answered at the API's address (or the answer was not the API's). */
export class ApiUnreachableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ApiUnreachableError";
  }
}

export interface ApiClient {
  readonly baseUrl: string;
  get<T>(path: string, query?: Record<string, string | undefined>): Promise<T>;
  post<T>(path: string, body: unknown): Promise<T>;
  put<T>(path: string, body: unknown): Promise<T>;
  delete<T>(path: string): Promise<T>;
}

/** The API at the address and with the key the environment gives (loadCliConfig); a bad address is a usage error. */
export function apiClientFromEnv(env?: Record<string, string | undefined>): ApiClient {
  let config: CliConfig;
  try {
    config = loadCliConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
  return createApiClient({ baseUrl: config.apiUrl, apiKey: config.apiKey });
}

export function createApiClient(options: { baseUrl: string; apiKey?: string | undefined }): ApiClient {
  const { baseUrl } = options;
  async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (options.apiKey) headers["x-api-key"] = options.apiKey;
    if (body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await fetch(`${baseUrl}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (cause) {
      const reason = (cause as { cause?: { code?: string } }).cause?.code ?? (cause as Error).name;
      throw new ApiUnreachableError(
        `cannot reach the API at ${baseUrl} (${reason}); start it with \`npm start\` or set PALIMPSEST_API`,
        { cause },
      );
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === "" ? null : JSON.parse(text);
    } catch (cause) {
      throw new ApiUnreachableError(
        `${baseUrl} answered ${response.status} with something that is not the Palimpsest API`,
        { cause },
      );
    }
    if (!response.ok) {
      const error = (parsed as { error?: { code?: unknown; message?: unknown } } | null)?.error;
      throw new ApiError(
        response.status,
        typeof error?.code === "string" ? error.code : `http_${response.status}`,
        typeof error?.message === "string" ? error.message : `The API answered HTTP ${response.status}.`,
      );
    }
    return parsed as T;
  }
  return {
    baseUrl,
    get: (path, query) => {
      const params = new URLSearchParams();
      for (const [name, value] of Object.entries(query ?? {}))
        if (value !== undefined) params.set(name, value);
      const search = params.size > 0 ? `?${params}` : "";
      return request("GET", `${path}${search}`);
    },
    post: (path, body) => request("POST", path, body),
    put: (path, body) => request("PUT", path, body),
    delete: (path) => request("DELETE", path),
  };
}

/**
 * Runs a command body that talks to the API: API errors become one line on stderr
 * (`palimpsest <command>: code: message`) and exit code 1, never a stack trace.
 */
export async function withApi(command: string, io: CommandIo, run: () => Promise<number>): Promise<number> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ApiError) {
      io.err(`palimpsest ${command}: ${error.code}: ${error.message}`);
      return 1;
    }
    if (error instanceof ApiUnreachableError) {
      io.err(`palimpsest ${command}: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

/** `--name value` and `--name=value` options plus positional arguments; unknown options are refused. */
export function parseOptions(
  args: readonly string[],
  spec: Record<string, "flag" | "value">,
): { options: Record<string, string | true>; positional: string[] } {
  const options: Record<string, string | true> = {};
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (!arg.startsWith("--")) {
      positional.push(arg);
      continue;
    }
    const [name = "", inline] = arg.slice(2).split(/=(.*)/s, 2);
    const kind = spec[name];
    if (kind === undefined) throw new UsageError(`unknown option --${name}`);
    if (kind === "flag") {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
      options[name] = true;
      continue;
    }
    const value = inline ?? args[++i];
    if (value === undefined || value === "") throw new UsageError(`--${name} needs a value`);
    options[name] = value;
  }
  return { options, positional };
}

/** `--limit`: 1 to 100 as the API takes it; anything else is a usage error (exit 2), not an API error. */
export function limitOption(value: string | true | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 100)
    throw new UsageError(
      `--limit must be a whole number from 1 to 100, not "${value === true ? "" : value}"`,
    );
  return value;
}
