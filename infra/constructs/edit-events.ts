import { type Duration, Stack } from "aws-cdk-lib";
import { type Archive, EventBus } from "aws-cdk-lib/aws-events";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { Function as LambdaFunction } from "aws-cdk-lib/aws-lambda";
import { Construct } from "constructs";
import { ENV } from "../../shared/env-names.ts";
import { DEFAULTS } from "./defaults.ts";

/**
 * `source` of every event Palimpsest publishes. The publisher's IAM grant is conditioned on it, so
 * it must equal `EVENT_SOURCE` in `shared/adapters/eventbridge-publisher.ts` (a test checks).
 */
export const EDIT_EVENT_SOURCE = "palimpsest";
/** `detail-type` of the event published when a capture produced a new, different version. */
export const ARTICLE_EDITED_DETAIL_TYPE = "ArticleEdited";

/** Props of {@link EditEvents}. */
export interface EditEventsProps {
  /**
   * Name of the event bus: what subscribers put in their rules and ARNs.
   * @default - `<stack name>-edits`
   */
  readonly eventBusName?: string;
  /**
   * How long the archive keeps published events for replay; at least one day.
   * @default Duration.days(30)
   */
  readonly archiveRetention?: Duration;
  /**
   * Archive every Palimpsest event so subscribers can replay what they missed.
   * @default true
   */
  readonly archive?: boolean;
}

/**
 * The dedicated EventBridge bus on which Palimpsest announces flagged edits, and an archive of it.
 * The capture function publishes through {@link EditEvents.bindPublisher}; nothing else may put
 * events on it.
 *
 * **Subscribing.** Every edit arrives as one event with `source` `"palimpsest"`, `detail-type`
 * `"ArticleEdited"` and the `ArticleEditedEvent` of `shared/ports.ts` as `detail` (URL, version
 * ids, the `Edit` with its significance, kinds and stealth flag, a summary). Attach a rule to this
 * bus (not the default bus) with the pattern
 * `{"source":["palimpsest"],"detail-type":["ArticleEdited"]}`, narrowed further on `detail` if
 * wanted (e.g. `"detail":{"edit":{"significance":["major"]}}` or `{"edit":{"stealth":[true]}}`),
 * and give it any target: a queue, a function, a Step Functions state machine, or another
 * account's bus (cross-account fan-out). Give targets a dead-letter queue and a retry policy.
 *
 * **Webhooks.** For an HTTPS endpoint outside AWS, target the rule at an EventBridge API
 * destination (a Connection holding the endpoint's API key, basic or OAuth credentials, plus the
 * ApiDestination with a rate limit). EventBridge then adds the credentials, throttles, and retries
 * failed deliveries (by default for up to 24 hours), and an input transformer can reshape the body;
 * no code of ours is involved. (The capture function's own signed webhook, `WEBHOOK_URL`, is the
 * alternative for the local runner, where there is no EventBridge.)
 *
 * **Replay.** The archive keeps every Palimpsest event for `archiveRetention`; a subscriber that
 * was down, or a new one that wants history, can `aws events start-replay` a time window of it
 * into the bus (replayed events carry a `replay-name` field to filter on).
 */
export class EditEvents extends Construct {
  /** The event bus. */
  public readonly bus: EventBus;
  /** The archive of Palimpsest events, when enabled. */
  public readonly archive?: Archive;

  constructor(scope: Construct, id: string, props: EditEventsProps = {}) {
    super(scope, id);
    const archive = props.archive ?? true;
    if (!archive && props.archiveRetention !== undefined) {
      throw new Error("EditEvents: archiveRetention needs archive: true (there would be nothing to retain).");
    }
    const archiveRetention = props.archiveRetention ?? DEFAULTS.editEventArchiveRetention;
    // Zero days would mean "keep forever" to EventBridge, an unbounded cost nobody asked for.
    if (archive && archiveRetention.toDays({ integral: false }) < 1) {
      throw new Error("EditEvents: archiveRetention must be at least one day.");
    }

    this.bus = new EventBus(this, "Bus", {
      eventBusName: props.eventBusName ?? `${Stack.of(this).stackName}-edits`,
      description: "Palimpsest: an ArticleEdited event for every flagged edit of an archived article",
    });
    if (archive) {
      this.archive = this.bus.archive("Archive", {
        description: "Every Palimpsest event on the edits bus, for replay",
        eventPattern: { source: [EDIT_EVENT_SOURCE] },
        retention: archiveRetention,
      });
    }
  }

  /**
   * Lets `fn` publish edits: sets `EVENT_BUS_NAME` and grants events:PutEvents on this bus only,
   * and only for events whose `source` is `"palimpsest"` (it can neither reach another bus nor
   * impersonate another source).
   */
  public bindPublisher(fn: LambdaFunction): void {
    fn.addEnvironment(ENV.eventBusName, this.bus.eventBusName);
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ["events:PutEvents"],
        resources: [this.bus.eventBusArn],
        conditions: { StringEquals: { "events:source": EDIT_EVENT_SOURCE } },
      }),
    );
  }
}
