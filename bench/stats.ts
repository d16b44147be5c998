/** Small statistics and formatting helpers shared by the performance sections of the bench. */

/** The q-quantile by the nearest-rank rule (the same one bench/extraction.ts uses); 0 when empty. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? 0;
}

/** The median: the mean of the two middle values for an even count. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

export function geometricMean(values: readonly number[]): number {
  if (values.length === 0) return 0;
  return Math.exp(values.reduce((sum, v) => sum + Math.log(v), 0) / values.length);
}

export const ms = (value: number): string => `${Math.round(value).toLocaleString("en")} ms`;

export const ratio = (value: number): string => `${value.toFixed(2)}×`;

/** Bytes as B, KB, MB (powers of 1,024, the way S3 and Lambda quotas are usually read). */
export function bytes(value: number): string {
  if (Math.abs(value) < 1024) return `${Math.round(value).toLocaleString("en")} B`;
  if (Math.abs(value) < 1024 ** 2) return `${(value / 1024).toFixed(1)} KB`;
  if (Math.abs(value) < 1024 ** 3) return `${(value / 1024 ** 2).toFixed(1)} MB`;
  return `${(value / 1024 ** 3).toFixed(2)} GB`;
}

/** Whether a measured figure meets its target, for the tables. */
export const verdict = (ok: boolean): string => (ok ? "met" : "**not met**");
