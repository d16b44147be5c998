/**
 * Pagination cursors are opaque, but they come back from clients, who can send anything. A
 * cursor that does not even decode is refused by the repository; one that decodes to a key the
 * database rejects (a forged or edited cursor, one from another list) fails only when the query
 * runs, as the store's validation error. Here, at the edge, such a failure of a call that was
 * given a cursor is the caller's `400 invalid_cursor`, never a 500.
 */
import { InvalidRequestError, PalimpsestError } from "../../shared/errors.ts";
import type { ApiDeps } from "./route-types.ts";

/** The error name the DynamoDB API (and its local emulator) gives an `ExclusiveStartKey` it refuses. */
const REJECTED_KEY = "ValidationException";

function cursorOf(args: readonly unknown[]): string | undefined {
  for (const arg of args) {
    const cursor = (arg as { cursor?: unknown } | null)?.cursor;
    if (typeof arg === "object" && typeof cursor === "string" && cursor !== "") return cursor;
  }
  return undefined;
}

/** `port` with every method that takes `{cursor}` turning a rejected cursor into `invalid_cursor`. */
export function guardCursors<T extends object>(port: T): T {
  return new Proxy(port, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      return async (...args: unknown[]) => {
        try {
          return await value.apply(target, args);
        } catch (err) {
          const rejected =
            cursorOf(args) !== undefined &&
            !(err instanceof PalimpsestError) &&
            (err as { name?: unknown } | null)?.name === REJECTED_KEY;
          if (!rejected) throw err;
          throw new InvalidRequestError("invalid_cursor", "The cursor is not one this API issued.", {
            cause: err,
          });
        }
      };
    },
  });
}

const guarded = new WeakMap<ApiDeps, ApiDeps>();

/** The dependencies with their repositories guarded, made once per set of dependencies. */
export function withGuardedCursors(deps: ApiDeps): ApiDeps {
  let found = guarded.get(deps);
  if (!found) {
    found = {
      ...deps,
      repository: guardCursors(deps.repository),
      ...(deps.following
        ? { following: { ...deps.following, sources: guardCursors(deps.following.sources) } }
        : {}),
    };
    guarded.set(deps, found);
  }
  return found;
}
