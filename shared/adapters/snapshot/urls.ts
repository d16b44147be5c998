/** URL helpers of the snapshot builder. */

/** `value` resolved against `base`, or undefined when it is no URL. */
export function absoluteUrl(value: string, base: string): string | undefined {
  try {
    return new URL(value.trim(), base).href;
  } catch {
    return undefined;
  }
}

/** The key resources are stored under: absolute URL without its fragment. */
export function withoutFragment(url: string): string {
  const hash = url.indexOf("#");
  return hash === -1 ? url : url.slice(0, hash);
}

/** Whether the URL would be fetched from the network (as opposed to `data:`, `blob:`, `about:`…). */
export function isNetworkUrl(url: string): boolean {
  return /^https?:/i.test(url);
}

/** Whether following the URL would run code. */
export function isScriptUrl(url: string): boolean {
  return /^(javascript|vbscript):/i.test(url);
}
