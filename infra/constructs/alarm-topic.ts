import { ArnFormat, AspectPriority, Aspects, type IAspect, RemovalPolicy, Stack } from "aws-cdk-lib";
import { AlarmBase } from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import { PolicyStatement, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Key } from "aws-cdk-lib/aws-kms";
import { type ITopic, Topic } from "aws-cdk-lib/aws-sns";
import { EmailSubscription } from "aws-cdk-lib/aws-sns-subscriptions";
import { Construct, type IConstruct } from "constructs";

/** Deliberately loose: one `local@domain.tld`, no spaces or commas; SNS and the inbox do the rest. */
const EMAIL_PATTERN = /^[^\s@,]+@[^\s@,]+\.[^\s@,]+$/;

/** Throws unless `email` looks like one email address (shared with the app's context parsing). */
export function assertEmailAddress(email: string, what: string): void {
  if (!EMAIL_PATTERN.test(email)) {
    throw new Error(`${what} must be an email address like ops@example.org, got ${JSON.stringify(email)}.`);
  }
}

/** Props of {@link AlarmTopic}. */
export interface AlarmTopicProps {
  /**
   * Email addresses subscribed to the topic. Each receives a confirmation email from AWS and gets
   * nothing until its link is followed.
   * @default - none: subscribe (email, chat, a pager) to the topic's ARN yourself
   */
  readonly emails?: readonly string[];
  /**
   * Send the alarms to this existing topic (an operations team's, a chat integration's) instead of
   * creating one. Its owner must let `cloudwatch.amazonaws.com` publish to it and, if it is
   * encrypted, use its key: neither can be changed from here.
   * @default - a topic of its own, encrypted with its own key
   */
  readonly topicArn?: string;
}

/** An SNS topic ARN, literal. */
const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;

/**
 * The SNS topic every Palimpsest alarm notifies, on entering ALARM and on returning to OK.
 *
 * It is encrypted with its own customer managed KMS key, not the AWS managed `alias/aws/sns`:
 * CloudWatch publishes to an encrypted topic only if the key's policy lets
 * `cloudwatch.amazonaws.com` use it, and the AWS managed key's policy cannot be changed, so
 * alarms on a topic encrypted with it would fail to notify, silently. The key and the topic let
 * CloudWatch in only on behalf of alarms of this account and region (confused-deputy guard), and
 * the topic refuses requests not made over TLS.
 */
export class AlarmTopic extends Construct {
  /** The topic. Its ARN is a stack output; subscribe to it. */
  public readonly topic: ITopic;
  /** The key that encrypts the topic's messages at rest, rotated yearly (none for a given topic). */
  public readonly key?: Key;
  /** The action each alarm gets, for its ALARM and OK states. */
  private readonly action: SnsAction;

  constructor(scope: Construct, id: string, props: AlarmTopicProps = {}) {
    super(scope, id);
    const emails = props.emails ?? [];
    for (const email of emails) assertEmailAddress(email, "AlarmTopic: each email");
    if (new Set(emails).size !== emails.length) {
      throw new Error("AlarmTopic: an email address is listed twice.");
    }

    if (props.topicArn !== undefined) {
      if (!TOPIC_ARN.test(props.topicArn)) {
        throw new Error(
          `AlarmTopic: topicArn must be an SNS topic ARN, got ${JSON.stringify(props.topicArn)}.`,
        );
      }
      this.topic = Topic.fromTopicArn(this, "Topic", props.topicArn);
      for (const email of emails) this.topic.addSubscription(new EmailSubscription(email));
      this.action = new SnsAction(this.topic);
      return;
    }

    const stack = Stack.of(this);
    const cloudWatch = new ServicePrincipal("cloudwatch.amazonaws.com");
    const fromOwnAlarms = {
      StringEquals: { "aws:SourceAccount": stack.account },
      ArnLike: {
        "aws:SourceArn": stack.formatArn({
          service: "cloudwatch",
          resource: "alarm",
          resourceName: "*",
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      },
    };

    const key = new Key(this, "Key", {
      description: "Palimpsest: encrypts the operational alarm topic",
      enableKeyRotation: true,
      // It protects notifications in flight, not data: nothing needs it once the topic is gone.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.key = key;
    key.addToResourcePolicy(
      new PolicyStatement({
        sid: "AllowCloudWatchAlarmsToPublish",
        principals: [cloudWatch],
        actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
        resources: ["*"],
        conditions: fromOwnAlarms,
      }),
    );

    const topic = new Topic(this, "Topic", {
      displayName: "Palimpsest alarms",
      masterKey: key,
      enforceSSL: true,
    });
    this.topic = topic;
    // The topic policy that enforceSSL creates replaces SNS's default one; same-account IAM
    // principals still publish through their own policies, the CloudWatch service through this.
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        sid: "AllowCloudWatchAlarmsToPublish",
        principals: [cloudWatch],
        actions: ["sns:Publish"],
        resources: [topic.topicArn],
        conditions: fromOwnAlarms,
      }),
    );
    for (const email of emails) this.topic.addSubscription(new EmailSubscription(email));
    this.action = new SnsAction(this.topic);
  }

  /**
   * Makes every CloudWatch alarm under `scope` — those created later included, since this runs as
   * an aspect at synthesis — notify the topic when it enters ALARM and when it returns to OK.
   * Call it once per scope, and add no action of this topic by hand (it would be listed twice).
   */
  public notifyOn(scope: IConstruct): void {
    const action = this.action;
    const aspect: IAspect = {
      visit(node: IConstruct): void {
        if (node instanceof AlarmBase) {
          node.addAlarmAction(action);
          node.addOkAction(action);
        }
      },
    };
    Aspects.of(scope).add(aspect, { priority: AspectPriority.MUTATING });
  }
}
