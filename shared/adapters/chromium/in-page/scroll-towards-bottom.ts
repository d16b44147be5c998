/**
 * Scrolls for lazy content during the settling.
 *
 * Runs inside the page: Playwright sends this function's source text, so it must be
 * self-contained and use nothing from module scope (imports here are types only, which vanish).
 */

/** Scrolls down a viewport at a time from the current position; returns the number of steps. */
export async function scrollTowardsBottom(limits: { maxSteps: number; maxMs: number }): Promise<number> {
  const scroller = document.scrollingElement ?? document.documentElement;
  const started = performance.now();
  const step = Math.max(200, window.innerHeight);
  // One frame a step: IntersectionObserver entries are computed in the rendering update that
  // follows the frame's animation callbacks, so a task queued from the callback runs after they were
  // taken at this position; the page's own callbacks may run later, they report this position all
  // the same. The timer keeps a throttled page from stalling the loop.
  const nextFrame = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 100);
      requestAnimationFrame(() => {
        clearTimeout(timer);
        setTimeout(resolve, 0);
      });
    });
  let steps = 0;
  while (steps < limits.maxSteps && performance.now() - started < limits.maxMs) {
    const bottom = scroller.scrollHeight - window.innerHeight;
    const y = scroller.scrollTop;
    if (y >= bottom - 1) break;
    // 'instant' overrides `scroll-behavior: smooth`, which would turn every step into an animation.
    window.scrollTo({ top: Math.min(y + step, bottom), behavior: "instant" });
    steps++;
    await nextFrame();
    if (scroller.scrollTop <= y) break; // scrolling is locked; more steps would change nothing
  }
  // One more frame, so that the callbacks of the last position have run and started their loads.
  if (steps > 0) await nextFrame();
  return steps;
}
