/** Starts `work` now to await it later; a failure in between is then not an unhandled rejection. */
export function inBackground<T>(work: Promise<T>): Promise<T> {
  work.catch(() => {});
  return work;
}
