import { createRequire } from "node:module";
import { Validations } from "aws-cdk-lib";
import { CfnPolicy } from "aws-cdk-lib/aws-iam";
import type { IConstruct } from "constructs";

type WildcardRule = (policy: CfnPolicy) => unknown;

/**
 * Acknowledges cdk-nag's AwsSolutions-IAM5 (wildcard permissions) for the wildcard resources of
 * the IAM policies under `scope` whose flattened form matches `pattern`, with `reason`. Others
 * stay reported.
 *
 * cdk-nag only accepts an acknowledgement per finding (`AwsSolutions-IAM5[Resource::…]`), and a
 * finding names the resource as synthesized: for a bucket or table of the storage stack that is a
 * cross-stack reference whose text exists only after CDK has resolved references. So the findings
 * are computed, with cdk-nag's own rule, when the tree is validated (after that resolution and
 * before validation plugins run). Without cdk-nag installed nothing is checked and nothing needs
 * acknowledging.
 */
export function acknowledgeWildcardResources(scope: IConstruct, pattern: RegExp, reason: string): void {
  scope.node.addValidation({
    validate: () => {
      const rule = loadWildcardRule();
      if (!rule) return [];
      for (const policy of scope.node.findAll().filter((c): c is CfnPolicy => c instanceof CfnPolicy)) {
        const findings = rule(policy);
        if (!Array.isArray(findings)) continue;
        for (const finding of findings as string[]) {
          if (finding.startsWith("Resource::") && pattern.test(finding.slice("Resource::".length))) {
            Validations.of(policy).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
          }
        }
      }
      return [];
    },
  });
}

let wildcardRule: WildcardRule | null | undefined;

function loadWildcardRule(): WildcardRule | null {
  if (wildcardRule === undefined) {
    try {
      const nag = createRequire(import.meta.url)("cdk-nag") as {
        rules: { iam: { IAMNoWildcardPermissions: WildcardRule } };
      };
      wildcardRule = nag.rules.iam.IAMNoWildcardPermissions;
    } catch {
      wildcardRule = null;
    }
  }
  return wildcardRule;
}
