import type { Duration } from "aws-cdk-lib";
import { loadHostShapingConfig } from "../../shared/config.ts";
import { hostLimitsFrom } from "../../shared/domain/host-shaping.ts";
import { ENV } from "../../shared/env-names.ts";

/** Props of {@link HostShaping}. */
export interface HostShapingProps {
  /**
   * Captures (and polls) of one host at a time, across the whole archive (1–100).
   * @default - the handlers' default (2)
   */
  readonly hostMaxConcurrency?: number;
  /**
   * Least time between the starts of two captures of one host (whole milliseconds, at most an hour).
   * @default - the handlers' default (1 s)
   */
  readonly hostMinGap?: Duration;
  /**
   * Per-host start intervals over the default gap, `HOST_LIMITS` syntax: `"news.example=2s,*.example.org=500ms"`.
   * @default - none: every host gets the default gap
   */
  readonly hostLimits?: string;
}

/** Something whose environment can be extended: a Lambda function. */
interface HasEnvironment {
  addEnvironment(key: string, value: string): unknown;
}

/**
 * Per-host politeness as the producers of captures shape it (`shared/domain/host-shaping.ts`): the
 * `HOST_*` settings, owned here and bound to exactly the functions whose config loaders read them
 * — the API (submits), the sweeper (re-captures) and the poll worker (submits, and its own host
 * gate). The capture worker reads none: it runs each capture when its message arrives. No
 * resource of its own (the slots live in the archive table), so not a CDK construct.
 */
export class HostShaping {
  /** The variables every shaping function gets (only the settings given: the rest default alike). */
  public readonly environment: Readonly<Record<string, string>>;

  constructor(props: HostShapingProps = {}) {
    const environment: Record<string, string> = {
      ...(props.hostMaxConcurrency === undefined
        ? {}
        : { [ENV.hostMaxConcurrency]: String(props.hostMaxConcurrency) }),
      // toMilliseconds() throws on a fraction of a millisecond, which the handlers could not parse.
      ...(props.hostMinGap === undefined
        ? {}
        : { [ENV.hostMinGapMs]: String(props.hostMinGap.toMilliseconds()) }),
      ...(props.hostLimits === undefined ? {} : { [ENV.hostLimits]: props.hostLimits }),
    };
    // The handlers parse these at cold start (the loader, then HOST_LIMITS when the shaper is
    // composed); parsing them here makes a bad value a synth error, with no second copy of the rules.
    try {
      hostLimitsFrom(loadHostShapingConfig(environment));
    } catch (err) {
      throw new Error(`HostShaping: ${(err as Error).message}`, { cause: err });
    }
    this.environment = environment;
  }

  /** A function that shapes captures (or gates polls) per host gets the settings. */
  public bindShaper(fn: HasEnvironment): void {
    for (const [name, value] of Object.entries(this.environment)) fn.addEnvironment(name, value);
  }
}
