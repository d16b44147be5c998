/**
 * One CORS rule of an S3 bucket, put and removed by its `ID` without touching the bucket's other
 * rules. S3 has no call for one rule: `PutBucketCors` replaces the whole configuration and
 * `DeleteBucketCors` wipes it, so a deployment that called them directly would erase rules an
 * operator (or another stack) put on the archive bucket. Here each change reads the configuration,
 * replaces or drops the rule with our ID, and writes the rest back (deleting the configuration only
 * when nothing else is left).
 *
 * Not atomic: S3 offers no conditional write of a bucket's CORS, so a concurrent writer between the
 * read and the write loses. The only caller is a deployment's custom resource, which CloudFormation
 * runs once at a time per stack.
 */
import {
  type CORSRule,
  DeleteBucketCorsCommand,
  GetBucketCorsCommand,
  PutBucketCorsCommand,
  type S3Client,
} from "@aws-sdk/client-s3";

/** A CORS rule that can be found again: its `ID` is required. */
export type IdentifiedCorsRule = CORSRule & { ID: string };

/** The bucket's CORS rules, or none when it has no CORS configuration. */
export async function readCorsRules(s3: S3Client, bucket: string): Promise<CORSRule[]> {
  try {
    const answer = await s3.send(new GetBucketCorsCommand({ Bucket: bucket }));
    return answer.CORSRules ?? [];
  } catch (err) {
    // What S3 answers for a bucket without CORS: an empty configuration, not a failure.
    if ((err as { name?: string }).name === "NoSuchCORSConfiguration") return [];
    throw err;
  }
}

/** Puts `rule` on the bucket in place of any rule with its ID; other rules keep their order. */
export async function putCorsRule(s3: S3Client, bucket: string, rule: IdentifiedCorsRule): Promise<void> {
  const rules = await readCorsRules(s3, bucket);
  const at = rules.findIndex((r) => r.ID === rule.ID);
  const next = at === -1 ? [...rules, rule] : rules.map((r, i) => (i === at ? rule : r));
  await s3.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: next } }));
}

/** Removes the rules with this ID, leaving the others; the bucket may be gone already. */
export async function removeCorsRule(s3: S3Client, bucket: string, id: string): Promise<void> {
  let rules: CORSRule[];
  try {
    rules = await readCorsRules(s3, bucket);
  } catch (err) {
    // Removing a rule from a bucket that no longer exists has nothing left to do.
    if ((err as { name?: string }).name === "NoSuchBucket") return;
    throw err;
  }
  const rest = rules.filter((r) => r.ID !== id);
  if (rest.length === rules.length) return;
  if (rest.length === 0) {
    // S3 refuses an empty rule list: no rule left means no configuration.
    await s3.send(new DeleteBucketCorsCommand({ Bucket: bucket }));
    return;
  }
  await s3.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: rest } }));
}
