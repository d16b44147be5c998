/**
 * One read per response body. The snapshot's resource collector, the take (the page's raw HTML)
 * and the exchange recorder all want some of the same bodies; each read is a DevTools round trip
 * that copies the body across as base64, so the first read's promise is shared by every reader.
 */
import type { Response } from "playwright-core";

const bodies = new WeakMap<Response, Promise<Buffer>>();

/** The body of `response`, read once whoever asks first (redirects and evicted bodies reject). */
export function bodyOf(response: Response): Promise<Buffer> {
  let body = bodies.get(response);
  if (!body) {
    body = response.body();
    body.catch(() => {}); // observed by each reader
    bodies.set(response, body);
  }
  return body;
}
