import { Alarm, ComparisonOperator, Metric, Stats, TreatMissingData } from "aws-cdk-lib/aws-cloudwatch";
import { Construct } from "constructs";
import { DEFAULTS } from "./defaults.ts";

/** Props of {@link AccountConcurrencyAlarm}. */
export interface AccountConcurrencyAlarmProps {
  /**
   * The account's Lambda concurrent-executions quota in this region, as Service Quotas shows it
   * (L-B99A9384). Raise it there first, then here.
   * @default 1000 (AWS's default; new accounts may start lower)
   */
  readonly quota?: number;
  /**
   * Share of the quota claimed at which the alarm fires, 1–100.
   * @default 80
   */
  readonly thresholdPercent?: number;
}

/**
 * Watches the account's Lambda concurrency, which every function of the account shares: past the
 * quota, new invocations are throttled, captures first (they hold a browser for a minute each).
 * `ClaimedAccountConcurrency` counts what is reserved plus what unreserved functions use, so it
 * reaches the quota exactly when throttling starts. The quota itself is not a metric, hence the prop.
 */
export class AccountConcurrencyAlarm extends Construct {
  public readonly alarm: Alarm;

  constructor(scope: Construct, id: string, props: AccountConcurrencyAlarmProps = {}) {
    super(scope, id);
    const quota = props.quota ?? DEFAULTS.accountConcurrencyQuota;
    const percent = props.thresholdPercent ?? DEFAULTS.accountConcurrencyAlarmPercent;
    if (!Number.isInteger(quota) || quota < 10) {
      throw new Error(`AccountConcurrencyAlarm: quota must be an integer of at least 10, got ${quota}.`);
    }
    if (!(percent >= 1 && percent <= 100)) {
      throw new Error(`AccountConcurrencyAlarm: thresholdPercent must be 1–100, got ${percent}.`);
    }
    const period = DEFAULTS.alarmPeriod;
    const periods = DEFAULTS.alarmSustainedPeriods;
    this.alarm = new Alarm(this, "Alarm", {
      alarmDescription:
        `The account has claimed ${percent}% of its ${quota} concurrent Lambda executions in each of the ` +
        `last ${periods * period.toMinutes()} minutes; at 100% every function of the account is throttled, ` +
        "captures first. Raise the quota in Service Quotas (Lambda, Concurrent executions) and this " +
        "alarm's quota prop with it, or lower the capture function's maxConcurrency.",
      metric: new Metric({
        namespace: "AWS/Lambda",
        metricName: "ClaimedAccountConcurrency",
        statistic: Stats.MAXIMUM,
        period,
      }),
      threshold: Math.ceil((quota * percent) / 100),
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: periods,
      datapointsToAlarm: periods,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }
}
