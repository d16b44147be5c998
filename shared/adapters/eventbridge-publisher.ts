/** Publishes ArticleEdited events to an EventBridge bus (source "palimpsest"). */
import { type EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import type { EditPublisher } from "../ports.ts";

export const EVENT_SOURCE = "palimpsest";

export function createEventBridgePublisher(deps: {
  client: EventBridgeClient;
  eventBusName: string;
}): EditPublisher {
  return {
    async publish(event) {
      const out = await deps.client.send(
        new PutEventsCommand({
          Entries: [
            {
              EventBusName: deps.eventBusName,
              Source: EVENT_SOURCE,
              DetailType: event.type,
              Resources: [],
              Detail: JSON.stringify(event),
            },
          ],
        }),
      );
      if ((out.FailedEntryCount ?? 0) > 0) {
        const entry = out.Entries?.[0];
        throw new Error(
          `EventBridge refused the event: ${entry?.ErrorCode ?? "unknown"} ${entry?.ErrorMessage ?? ""}`,
        );
      }
    },
  };
}

/** Sends each event to every publisher; fails only if one of them gave up. */
export function fanOut(publishers: EditPublisher[]): EditPublisher | undefined {
  if (publishers.length === 0) return undefined;
  if (publishers.length === 1) return publishers[0];
  return {
    async publish(event) {
      const results = await Promise.allSettled(publishers.map((p) => p.publish(event)));
      const failed = results.find((r) => r.status === "rejected");
      if (failed) throw (failed as PromiseRejectedResult).reason;
    },
  };
}
