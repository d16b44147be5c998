/**
 * The page activity tracker, an init script in every document, and the call that reads it.
 *
 * Runs inside the page: Playwright sends this function's source text, so it must be
 * self-contained and use nothing from module scope (imports here are types only, which vanish).
 */

/** Where the tracker answers: `window[Symbol.for(PAGE_ACTIVITY_KEY)]`. The tracker spells it out itself. */
export const PAGE_ACTIVITY_KEY = "palimpsest:activity";

/** What the page's activity tracker reports, in milliseconds relative to the moment it answered. */
export interface PageActivity {
  /** Since content was last added to or removed from the DOM (or since DOMContentLoaded). */
  sinceMutationMs: number;
  /** Since the page last posted a message to itself or a MessagePort (how schedulers yield). */
  sinceMessageMs: number;
  /** Pending short timers: how long ago each was set and how soon it is due. */
  timers: Array<{ ageMs: number; dueInMs: number }>;
  /** Pending animation-frame and idle callbacks whose chain began within the chain limit. */
  youngCallbacks: number;
  /** Whether web fonts are still loading. */
  fontsLoading: boolean;
  /**
   * Until the last running CSS transition or animation (or Web Animation) that ends within the
   * timer limit is over; 0 if none. Pages render on `transitionend` and `animationend`.
   */
  animationsDueInMs: number;
  /**
   * Sources of activity the tracker cannot follow that the page has open (WebSocket,
   * EventSource, workers, BroadcastChannel, peer connections): with any, quiet is all there is.
   */
  untracked: string[];
  /** How long after the last mark the DOM content first changed; null if it has not. */
  mutatedAfterMarkMs: number | null;
}

/**
 * Installed in every document before its own scripts (an init script): notes what the page still
 * has pending, so that the idle wait can tell a page that is done from one that is about to render
 * what it just fetched —
 * - when DOM content last changed (from DOMContentLoaded on; of attributes only `src` and
 *   `srcset`: animations change the others endlessly);
 * - which short timers are pending (`setTimeout` and `scheduler.postTask` with a delay up to
 *   `timerMaxDelayMs`, the next tick of a `setInterval` up to `intervalMaxMs`);
 * - which `requestAnimationFrame` and `requestIdleCallback` callbacks are pending, and since when
 *   their chain runs (a callback requested while another runs continues its chain);
 * - when the page last posted a message (`postMessage` on the window or a MessagePort);
 * - which CSS transitions and animations will end soon (pages render on their end events);
 * - whether fonts are loading, and whether the page opened anything whose events the tracker cannot
 *   foresee (WebSocket, EventSource, workers…).
 * Each wrapped function is a Proxy, which keeps it looking native to the page. Also counts what
 * watches scrolling, for `pageReactsToScroll`. Reads through `window[Symbol.for("palimpsest:activity")]()`.
 */
export function trackPageActivity(limits: {
  timerMaxDelayMs: number;
  intervalMaxMs: number;
  callbackChainMaxMs: number;
}): void {
  const key = Symbol.for("palimpsest:activity");
  const scope = window as unknown as Record<string | symbol, unknown>;
  if (scope[key]) return;
  const timers = new Map<unknown, { setAt: number; dueAt: number }>();
  let lastMutation = performance.now();
  let lastMessage = Number.NEGATIVE_INFINITY;
  const wrap = (owner: object, name: string, handler: ProxyHandler<(...args: unknown[]) => unknown>) => {
    const original = (owner as Record<string, unknown>)[name];
    if (typeof original !== "function") return;
    (owner as Record<string, unknown>)[name] = new Proxy(
      original as (...args: unknown[]) => unknown,
      handler,
    );
  };

  // A timeout is pending until it runs. A short interval (a poll) counts as a timer due at its
  // next tick; each tick sets it again.
  const trackTimers = (name: "setTimeout" | "setInterval", maxDelayMs: number) => {
    const repeats = name === "setInterval";
    wrap(window, name, {
      apply(target, thisArg, args: unknown[]) {
        const [handler, timeout, ...rest] = args;
        const delay = Math.max(0, Number(timeout) || 0);
        if (typeof handler !== "function" || delay > maxDelayMs) return Reflect.apply(target, thisArg, args);
        let id: unknown;
        const run = function (this: unknown) {
          const now = performance.now();
          if (!repeats) timers.delete(id);
          else if (timers.has(id)) timers.set(id, { setAt: now, dueAt: now + delay });
          return Reflect.apply(handler, this, rest);
        };
        id = Reflect.apply(target, thisArg, [run, timeout]);
        const now = performance.now();
        timers.set(id, { setAt: now, dueAt: now + delay });
        return id;
      },
    });
  };
  trackTimers("setTimeout", limits.timerMaxDelayMs);
  trackTimers("setInterval", limits.intervalMaxMs);
  // Either clears either kind: timeouts and intervals share their ids.
  for (const name of ["clearTimeout", "clearInterval"]) {
    wrap(window, name, {
      apply(target, thisArg, args: unknown[]) {
        timers.delete(args[0]);
        return Reflect.apply(target, thisArg, args);
      },
    });
  }
  // Tasks posted with a delay (the Prioritized Task Scheduling API) are timers too.
  const scheduler = (window as unknown as { scheduler?: object }).scheduler;
  if (scheduler) {
    wrap(scheduler, "postTask", {
      apply(target, thisArg, args: unknown[]) {
        const delay = Math.max(0, Number((args[1] as { delay?: unknown } | undefined)?.delay) || 0);
        const posted = Reflect.apply(target, thisArg, args);
        if (delay <= limits.timerMaxDelayMs && posted instanceof Promise) {
          const key = {};
          const now = performance.now();
          timers.set(key, { setAt: now, dueAt: now + delay });
          posted.then(
            () => timers.delete(key),
            () => timers.delete(key),
          );
        }
        return posted;
      },
    });
  }

  // Frame and idle callbacks: pending ones by id (each kind numbers its own), with their chain's start.
  let runningChainStart: number | undefined;
  const pendingCallbacks: Array<Map<unknown, number>> = [];
  const trackCallbacks = (requestName: string, cancelName: string) => {
    const pending = new Map<unknown, number>();
    pendingCallbacks.push(pending);
    wrap(window, requestName, {
      apply(target, thisArg, args: unknown[]) {
        const [callback, ...rest] = args;
        if (typeof callback !== "function") return Reflect.apply(target, thisArg, args);
        const chainStart = runningChainStart ?? performance.now();
        let id: unknown;
        const run = function (this: unknown, ...callbackArgs: unknown[]) {
          pending.delete(id);
          const outer = runningChainStart;
          runningChainStart = chainStart;
          try {
            return Reflect.apply(callback, this, callbackArgs);
          } finally {
            runningChainStart = outer;
          }
        };
        id = Reflect.apply(target, thisArg, [run, ...rest]);
        pending.set(id, chainStart);
        return id;
      },
    });
    wrap(window, cancelName, {
      apply(target, thisArg, args: unknown[]) {
        pending.delete(args[0]);
        return Reflect.apply(target, thisArg, args);
      },
    });
  };
  trackCallbacks("requestAnimationFrame", "cancelAnimationFrame");
  trackCallbacks("requestIdleCallback", "cancelIdleCallback");

  const notePost = {
    apply(target: (...args: unknown[]) => unknown, thisArg: unknown, args: unknown[]) {
      lastMessage = performance.now();
      return Reflect.apply(target, thisArg, args);
    },
  };
  wrap(window, "postMessage", notePost);
  if (typeof MessagePort === "function") wrap(MessagePort.prototype, "postMessage", notePost);

  // Open sources of events the tracker cannot foresee, until closed (a worker until terminated).
  const untracked = new Map<object, string>();
  for (const [name, closer] of [
    ["WebSocket", "close"],
    ["EventSource", "close"],
    ["Worker", "terminate"],
    ["SharedWorker", ""],
    ["BroadcastChannel", "close"],
    ["RTCPeerConnection", "close"],
    ["WebTransport", "close"],
  ] as const) {
    const opener = scope[name];
    if (typeof opener !== "function") continue;
    if (closer) {
      wrap(opener.prototype as object, closer, {
        apply(target, thisArg, args: unknown[]) {
          untracked.delete(thisArg as object);
          return Reflect.apply(target, thisArg, args);
        },
      });
    }
    scope[name] = new Proxy(opener as new (...args: unknown[]) => object, {
      construct(target, args, newTarget) {
        const opened = Reflect.construct(target, args, newTarget);
        untracked.set(opened, name);
        return opened;
      },
    });
  }
  /** The untracked sources still open: a socket or stream its server closed is done too. */
  const openUntracked = () => {
    const open = new Set<string>();
    for (const [source, name] of untracked) {
      const { readyState, CLOSED, connectionState } = source as {
        readyState?: unknown;
        CLOSED?: unknown;
        connectionState?: unknown;
      };
      const closed = (readyState !== undefined && readyState === CLOSED) || connectionState === "closed";
      if (closed) untracked.delete(source);
      else open.add(name);
    }
    return [...open];
  };

  // What may load more when the reader scrolls: elements given to an IntersectionObserver and
  // scroll or wheel listeners. A page with neither is not scrolled through (see `settle`).
  let scrollWatchers = 0;
  if (typeof IntersectionObserver === "function") {
    wrap(IntersectionObserver.prototype, "observe", {
      apply(target, thisArg, args: unknown[]) {
        scrollWatchers++;
        return Reflect.apply(target, thisArg, args);
      },
    });
  }
  wrap(EventTarget.prototype, "addEventListener", {
    apply(target, thisArg, args: unknown[]) {
      if (args[0] === "scroll" || args[0] === "wheel") scrollWatchers++;
      return Reflect.apply(target, thisArg, args);
    },
  });
  Object.defineProperty(scope, Symbol.for("palimpsest:scroll-watchers"), {
    value: () =>
      scrollWatchers +
      (window.onscroll || window.onwheel || document.onscroll ? 1 : 0) +
      document.querySelectorAll("[onscroll], [onwheel]").length,
  });
  /** Until the last finite animation that ends within the timer limit is over (endless ones never are). */
  const animationsDueIn = () => {
    let due = 0;
    for (const animation of document.getAnimations?.() ?? []) {
      if (animation.playState !== "running") continue;
      const end = Number(animation.effect?.getComputedTiming().endTime);
      const current = Number(animation.currentTime ?? 0);
      if (!Number.isFinite(end) || !Number.isFinite(current)) continue;
      const remaining = (end - current) / Math.abs(animation.playbackRate || 1);
      if (remaining > 0 && remaining <= limits.timerMaxDelayMs) due = Math.max(due, remaining);
    }
    return due;
  };
  let markedAt: number | undefined;
  let firstMutationAfterMark: number | undefined;
  const observe = () => {
    lastMutation = performance.now();
    new MutationObserver(() => {
      lastMutation = performance.now();
      if (markedAt !== undefined) firstMutationAfterMark ??= lastMutation;
    }).observe(document, {
      childList: true,
      subtree: true,
      characterData: true,
      // Which image an element shows (a lazy loader's data-src → src); other attributes are left
      // out, animations change them endlessly.
      attributeFilter: ["src", "srcset"],
    });
  };
  if (document.readyState === "loading")
    document.addEventListener("DOMContentLoaded", observe, { once: true });
  else observe();
  Object.defineProperty(scope, key, {
    value: (mark: boolean) => {
      const now = performance.now();
      if (mark) {
        markedAt = now;
        firstMutationAfterMark = undefined;
      }
      let youngCallbacks = 0;
      for (const pending of pendingCallbacks) {
        for (const chainStart of pending.values()) {
          if (now - chainStart < limits.callbackChainMaxMs) youngCallbacks++;
        }
      }
      return {
        mutatedAfterMarkMs:
          markedAt !== undefined && firstMutationAfterMark !== undefined
            ? firstMutationAfterMark - markedAt
            : null,
        sinceMutationMs: now - lastMutation,
        sinceMessageMs: Number.isFinite(lastMessage) ? now - lastMessage : 1e9,
        timers: Array.from(timers.values(), (t) => ({
          ageMs: now - t.setAt,
          dueInMs: Math.max(0, t.dueAt - now),
        })),
        youngCallbacks,
        fontsLoading: document.fonts?.status === "loading",
        animationsDueInMs: animationsDueIn(),
        untracked: openUntracked(),
      };
    },
  });
}

/**
 * The tracker's report (see `trackPageActivity`), or null when the page has none. With `mark`, the
 * tracker starts noting the first DOM change from now on.
 */
export function readPageActivityInPage(options: { key: string; mark: boolean }): PageActivity | null {
  const read = (window as unknown as Record<symbol, ((mark: boolean) => PageActivity) | undefined>)[
    Symbol.for(options.key)
  ];
  return read ? read(options.mark) : null;
}
