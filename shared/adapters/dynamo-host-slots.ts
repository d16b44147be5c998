/**
 * The start schedule of each host in DynamoDB (see host-shaping.ts): item `HOST#<host>` /
 * `SCHEDULE` holds the next free start of each lane (`scheduledFree`, `interactiveFree`, epoch ms)
 * and a `revision` that every write bumps. A reservation reads the item, plans, and writes on
 * condition that the revision is still the one it read; a concurrent writer makes it read and plan
 * again. One write per host per batch of captures, so a sweep costs a host's partition one write,
 * not one per capture.
 */
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { InvalidRequestError } from "../errors.ts";
import type { HostLane, HostSlots } from "../ports.ts";

/**
 * Conflicts on one host before giving up: each means another writer reserved meanwhile (a sweep
 * reserves a large host from several shards at once, and sweeps may overlap).
 */
const MAX_CONFLICTS = 100;

function isConditionFailure(err: unknown): boolean {
  return (err as { name?: string })?.name === "ConditionalCheckFailedException";
}

/** Too many concurrent reservations on one host's schedule: a 429 the caller may retry. */
export class HostScheduleContendedError extends InvalidRequestError {
  readonly retryAfterSeconds = 1;
  constructor(host: string, options: { cause: unknown }) {
    super("host_busy", `Too many captures of ${host} are being scheduled at once; try again in 1 s.`, {
      status: 429,
      ...options,
    });
  }
}

/** Creates the DynamoDB host schedule over the archive table. */
export function createDynamoHostSlots(deps: {
  client: DynamoDBDocumentClient;
  tableName: string;
}): HostSlots {
  const { client, tableName: TableName } = deps;
  const key = (host: string) => ({ PK: `HOST#${host}`, SK: "SCHEDULE" });
  const field = (lane: HostLane) => (lane === "interactive" ? "interactiveFree" : "scheduledFree");

  return {
    async reserve(host, lane, plan) {
      for (let conflict = 0; ; conflict++) {
        const out = await client.send(new GetCommand({ TableName, Key: key(host), ConsistentRead: true }));
        const revision = out.Item?.revision as number | undefined;
        const current = out.Item?.[field(lane)] as number | undefined;
        const { nextFree, result } = plan(current);
        if (nextFree === current) return result;
        try {
          await client.send(
            new UpdateCommand({
              TableName,
              Key: key(host),
              UpdateExpression: "SET #free = :free, revision = :next",
              ConditionExpression:
                revision === undefined ? "attribute_not_exists(revision)" : "revision = :seen",
              ExpressionAttributeNames: { "#free": field(lane) },
              ExpressionAttributeValues: {
                ":free": nextFree,
                ":next": (revision ?? 0) + 1,
                ...(revision === undefined ? {} : { ":seen": revision }),
              },
            }),
          );
          return result;
        } catch (err) {
          if (!isConditionFailure(err)) throw err;
          // So many writers at once on one host's schedule: the caller is told to come back, as
          // when the queue is full, rather than failing with the store's own error.
          if (conflict >= MAX_CONFLICTS) throw new HostScheduleContendedError(host, { cause: err });
          // Spread the retries of writers that collided, so they do not collide again.
          await new Promise((resolve) =>
            setTimeout(resolve, Math.random() * Math.min(200, 5 * 2 ** conflict)),
          );
        }
      }
    },
  };
}
