/**
 * Which late page content a capture must include, pinned down with the real browser.
 *
 * Each case is a small page on the fixture site whose final content (`LATE-MARKER-<case>`) appears
 * only after `load`, behind one kind of asynchronous step (a fetch, a timer chain, animation frames,
 * a worker, a font…). The marker is never in the page's source — scripts stay in `renderedHtml`, so
 * they build it from pieces or get it from the server — and the placeholder it replaces must be gone.
 * Pages that never stop (animation loops, a ticker, a restarted transition, a poll, a scroll
 * handler's next-frame update) must not hold the capture up, nor get it taken again.
 *
 * `SETTLING_TIMES=1` prints how long each capture took, to compare settling policies.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createChromiumPageCapturer } from "../../shared/adapters/chromium/page-capturer.ts";
import type { PageCapture, PageCapturer } from "../../shared/ports.ts";
import { testCaptureOptions } from "../support/capture-options.ts";
import { type FixtureSite, startFixtureSite } from "../support/fixture-site.ts";
import { loopbackEgress, NO_DNS } from "../support/loopback-browser.ts";

// The production idle bound (CAPTURE_IDLE_TIMEOUT_MS defaults to 5 s): the negative controls must
// finish well inside it, not merely at it. A stuck capture fails fast rather than at 30 s.
const OPTIONS = testCaptureOptions({ idleTimeoutMs: 5_000, totalTimeoutMs: 10_000 });
/** Most the settle phase of a page that never stops animating or polling may take. */
const NEGATIVE_CONTROL_MAX_MS = 3_000;

const JSON_TYPE = { contentType: "application/json; charset=utf-8" };
const JS_TYPE = { contentType: "text/javascript; charset=utf-8" };

const markerOf = (id: string) => `LATE-MARKER-${id}`;
const placeholderOf = (id: string) => `PLACEHOLDER-${id}`;

interface PageParts {
  /** Page script; `marker` (this case's marker) and `render(text)` (into `#out`) are in scope. */
  script: string;
  head?: string;
  /** Markup before `#out`. */
  body?: string;
}

/** A page showing `PLACEHOLDER-<id>` in `#out` until its script renders something else there. */
function lateHtml(id: string, { script, head = "", body = "" }: PageParts): string {
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Settling: ${id}</title>${head}</head>
<body>
<h1>Settling case ${id}</h1>
${body}
<p id="out">${placeholderOf(id)}</p>
<script>
const marker = ["LATE", "MARKER", ${JSON.stringify(id)}].join("-");
function render(text) {
  document.getElementById("out").textContent = text;
}
${script}
</script>
</body>
</html>
`;
}

interface Row {
  name: string;
  ms: number;
  settleMs: number | undefined;
  retaken: boolean;
  /** Held to the full quiet window (the page had activity its tracker cannot follow). */
  fullQuiet: boolean;
  passed: boolean;
  note: string;
}
const rows: Row[] = [];

let site: FixtureSite;
let capturer: PageCapturer;

before(async () => {
  site = await startFixtureSite();
  capturer = createChromiumPageCapturer({ extraArgs: [NO_DNS], egress: loopbackEgress() });
  // Launch the browser now, so that the first case's time is a capture's and not a launch's.
  site.setPage("/settling/warm-up.html", "<!DOCTYPE html><title>Warm-up</title><p>Warm-up</p>");
  await capturer.capture(site.url("/settling/warm-up.html"), OPTIONS);
});

after(async () => {
  await capturer?.close();
  await site?.close();
  if (process.env.SETTLING_TIMES === "1") console.log(formatTable(rows));
});

/** Captures `path`, noting the time `capture()` took under `name` (and whether the checks passed). */
async function timedCapture(name: string, path: string): Promise<{ capture: PageCapture; row: Row }> {
  const row: Row = {
    name,
    ms: Number.NaN,
    settleMs: undefined,
    retaken: false,
    fullQuiet: false,
    passed: false,
    note: "",
  };
  rows.push(row);
  const started = performance.now();
  try {
    const capture = await capturer.capture(site.url(path), OPTIONS);
    row.settleMs = capture.timings.settle;
    row.retaken = capture.timings.retaken === 1;
    row.fullQuiet = capture.timings.untracked === 1;
    return { capture, row };
  } finally {
    row.ms = performance.now() - started;
  }
}

/**
 * Serves the page of case `id`, captures it and checks that the marker made it into `renderedHtml`
 * and the placeholder did not; `check` asserts more about the rendered HTML.
 */
async function captureLate(
  name: string,
  id: string,
  parts: PageParts,
  check?: (html: string, row: Row) => void,
): Promise<void> {
  const html = lateHtml(id, parts);
  assert.ok(!html.includes(markerOf(id)), "the marker must not be in the page's source");
  site.setPage(`/settling/${id}.html`, html);
  const { capture, row } = await timedCapture(name, `/settling/${id}.html`);
  const rendered = capture.renderedHtml;
  assert.ok(
    rendered.includes(markerOf(id)),
    `${markerOf(id)} missing from renderedHtml (took ${Math.round(row.ms)} ms, settle ${row.settleMs} ms)`,
  );
  assert.ok(!rendered.includes(placeholderOf(id)), `${placeholderOf(id)} still in renderedHtml`);
  check?.(rendered, row);
  row.passed = true;
}

/** Captures a page that never stops doing something; it must be taken quickly with its static text. */
async function captureBusy(name: string, id: string, body: string, script: string): Promise<Row> {
  const staticMarker = `STATIC-MARKER-${id}`;
  site.setPage(
    `/settling/${id}.html`,
    `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Settling: ${id}</title></head>
<body>
<h1>Settling case ${id}</h1>
<p id="static">${staticMarker}</p>
${body}
<script>
${script}
</script>
</body>
</html>
`,
  );
  const { capture, row } = await timedCapture(name, `/settling/${id}.html`);
  assert.match(capture.renderedHtml, new RegExp(`<p id="static">${staticMarker}</p>`));
  // The settle phase is what these pages could hold up; the whole capture's time also counts
  // navigation and the screenshot, which a loaded machine slows whatever settling does.
  assert.ok(row.settleMs !== undefined, "the capture reports its settle time");
  assert.ok(
    row.settleMs < NEGATIVE_CONTROL_MAX_MS,
    `settling took ${row.settleMs} ms (capture ${Math.round(row.ms)} ms), more than ${NEGATIVE_CONTROL_MAX_MS} ms`,
  );
  row.passed = true;
  return row;
}

function formatTable(table: readonly Row[]): string {
  const header = ["case", "capture ms", "settle ms", "retaken", "full quiet", "result", "note"];
  const lines = table.map((row) => [
    row.name,
    Number.isNaN(row.ms) ? "-" : String(Math.round(row.ms)),
    row.settleMs === undefined ? "-" : String(row.settleMs),
    row.retaken ? "yes" : "",
    row.fullQuiet ? "yes" : "",
    row.passed ? "pass" : "FAIL",
    row.note,
  ]);
  const widths = header.map((title, i) =>
    Math.max(title.length, ...lines.map((line) => line[i]?.length ?? 0)),
  );
  const format = (cells: string[]) =>
    cells
      .map((cell, i) => (i === 1 || i === 2 ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return ["", format(header), ...lines.map(format), ""].join("\n");
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("settling: late content a capture must include", () => {
  it("fetch of JSON, then render at once", async () => {
    site.setPage("/settling/data/fetch.json", JSON.stringify({ marker: markerOf("fetch") }), JSON_TYPE);
    await captureLate("1 fetch → render", "fetch", {
      script: `addEventListener("load", () => {
  fetch("/delay/200/settling/data/fetch.json")
    .then((response) => response.json())
    .then((data) => render(data.marker));
});`,
    });
  });

  it("fetch, then setTimeout(150), then render (a client-rendered site)", async () => {
    site.setPage(
      "/settling/data/fetch-timeout.json",
      JSON.stringify({ marker: markerOf("fetch-timeout") }),
      JSON_TYPE,
    );
    await captureLate("2 fetch → setTimeout(150) → render", "fetch-timeout", {
      script: `addEventListener("load", () => {
  fetch("/delay/200/settling/data/fetch-timeout.json")
    .then((response) => response.json())
    .then((data) => setTimeout(() => render(data.marker), 150));
});`,
    });
  });

  it("XMLHttpRequest, then render", async () => {
    site.setPage("/settling/data/xhr.json", JSON.stringify({ marker: markerOf("xhr") }), JSON_TYPE);
    await captureLate("3 XMLHttpRequest → render", "xhr", {
      script: `addEventListener("load", () => {
  const xhr = new XMLHttpRequest();
  xhr.open("GET", "/delay/200/settling/data/xhr.json");
  xhr.onload = () => render(JSON.parse(xhr.responseText).marker);
  xhr.send();
});`,
    });
  });

  it("fetch, then a chain of 3 setTimeout(60), each set by the previous one, then render", async () => {
    site.setPage("/settling/data/timer-chain.json", JSON.stringify({ ok: true }), JSON_TYPE);
    await captureLate("4 fetch → 3 × setTimeout(60) chain → render", "timer-chain", {
      script: `addEventListener("load", () => {
  fetch("/delay/200/settling/data/timer-chain.json")
    .then((response) => response.json())
    .then(() => {
      setTimeout(() => {
        setTimeout(() => {
          setTimeout(() => render(marker), 60);
        }, 60);
      }, 60);
    });
});`,
    });
  });

  it("a chain of 10 nested requestAnimationFrame callbacks, then render", async () => {
    await captureLate("5 requestAnimationFrame × 10 → render", "raf-chain", {
      script: `addEventListener("load", () => {
  let frames = 0;
  const step = () => {
    if (++frames < 10) requestAnimationFrame(step);
    else render(marker);
  };
  requestAnimationFrame(step);
});`,
    });
  });

  it("requestIdleCallback, then render", async () => {
    await captureLate("6 requestIdleCallback → render", "idle-callback", {
      script: `addEventListener("load", () => {
  requestIdleCallback(() => render(marker));
});`,
    });
  });

  it("a React-scheduler-like MessageChannel loop: 30 slices of ~3 ms, a paragraph each", async () => {
    await captureLate(
      "7 MessageChannel scheduler, 30 × 3 ms slices",
      "scheduler",
      {
        body: `<div id="feed"></div>`,
        script: `addEventListener("load", () => {
  const channel = new MessageChannel();
  const feed = document.getElementById("feed");
  let slice = 0;
  channel.port1.onmessage = () => {
    const until = performance.now() + 3;
    while (performance.now() < until) {}
    slice++;
    const paragraph = document.createElement("p");
    paragraph.className = "slice";
    paragraph.textContent = slice === 30 ? marker : "Slice " + slice;
    feed.append(paragraph);
    if (slice < 30) channel.port2.postMessage(null);
    else document.getElementById("out").remove();
  };
  channel.port2.postMessage(null);
});`,
      },
      (html) => assert.equal(html.match(/<p class="slice">/g)?.length, 30, "all 30 slices rendered"),
    );
  });

  it("window.postMessage to itself, then setTimeout(40) in the handler, then render", async () => {
    await captureLate("8 postMessage → setTimeout(40) → render", "post-message", {
      script: `addEventListener("message", (event) => {
  if (event.data === "go") setTimeout(() => render(marker), 40);
});
addEventListener("load", () => window.postMessage("go", "*"));`,
    });
  });

  it("an image's onload inserts a caption", async () => {
    await captureLate("9 img onload → caption", "image-onload", {
      body: `<figure id="figure"></figure>`,
      script: `addEventListener("load", () => {
  const image = new Image();
  image.alt = "A red square";
  image.onload = () => {
    const caption = document.createElement("figcaption");
    caption.textContent = marker;
    document.getElementById("figure").append(caption);
    document.getElementById("out").remove();
  };
  image.src = "/delay/200/img/10x10-ff0000.png";
  document.getElementById("figure").append(image);
});`,
    });
  });

  it("a script added dynamically, served slowly, renders when it runs", async () => {
    site.setPage(
      "/settling/data/dynamic-script.js",
      `render(["LATE", "MARKER", "dynamic-script"].join("-"));\n`,
      JS_TYPE,
    );
    await captureLate("10 dynamic <script src> (slow) → render", "dynamic-script", {
      script: `addEventListener("load", () => {
  const script = document.createElement("script");
  script.src = "/delay/150/settling/data/dynamic-script.js";
  document.head.append(script);
});`,
    });
  });

  it("await import() of a module, which renders", async () => {
    site.setPage(
      "/settling/data/module.js",
      `export const text = ["LATE", "MARKER", "dynamic-import"].join("-");\n`,
      JS_TYPE,
    );
    await captureLate("11 await import() → render", "dynamic-import", {
      script: `addEventListener("load", async () => {
  const module = await import("/delay/150/settling/data/module.js");
  render(module.text);
});`,
    });
  });

  it("a Web Worker computes for ~100 ms and posts a message; the page renders it", async () => {
    site.setPage(
      "/settling/data/worker.js",
      `const until = performance.now() + 100;
let spins = 0;
while (performance.now() < until) spins++;
postMessage({ text: ["LATE", "MARKER", "worker"].join("-"), spins });
`,
      JS_TYPE,
    );
    await captureLate("12 Web Worker (100 ms compute) → render", "worker", {
      script: `addEventListener("load", () => {
  const worker = new Worker("/settling/data/worker.js");
  worker.onmessage = (event) => render(event.data.text);
});`,
    });
  });

  it("a web font loads (or fails to), then render", async () => {
    await captureLate(
      "13 FontFace.load() → render",
      "font-load",
      {
        script: `addEventListener("load", () => {
  const font = new FontFace("SettlingFixture", "url(/delay/150/fonts/fixture.woff2)");
  document.fonts.add(font);
  font.load().then(
    () => { document.body.dataset.font = "loaded"; render(marker); },
    () => { document.body.dataset.font = "failed"; render(marker); },
  );
});`,
      },
      (html, row) => {
        row.note = `font ${/data-font="(\w+)"/.exec(html)?.[1] ?? "?"}`;
      },
    );
  });

  it("a fetch of a response streamed in 3 chunks 100 ms apart, then render", async () => {
    site.setRoute("/settling/data/stream.json", async (_req, res) => {
      res.writeHead(200, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
      const json = JSON.stringify({ marker: markerOf("stream"), padding: "x".repeat(200) });
      const third = Math.ceil(json.length / 3);
      res.write(json.slice(0, third));
      await sleep(100);
      res.write(json.slice(third, 2 * third));
      await sleep(100);
      res.end(json.slice(2 * third));
    });
    await captureLate("14 streamed response (3 chunks, 100 ms apart)", "stream", {
      script: `addEventListener("load", () => {
  fetch("/settling/data/stream.json")
    .then((response) => response.json())
    .then((data) => render(data.marker));
});`,
    });
  });

  it("microtasks only (queueMicrotask, 50 × Promise.then) after DOMContentLoaded, then render", async () => {
    await captureLate("15 microtasks after DOMContentLoaded", "microtasks", {
      script: `document.addEventListener("DOMContentLoaded", () => {
  let chain = Promise.resolve(0);
  for (let i = 0; i < 50; i++) {
    chain = chain.then((n) => new Promise((resolve) => queueMicrotask(() => resolve(n + 1))));
  }
  chain.then((n) => {
    if (n === 50) render(marker);
  });
});`,
    });
  });

  it("render after a 100 ms CSS transition ends (setTimeout(120) only if it never runs)", async () => {
    await captureLate(
      "16 CSS transition (100 ms) → transitionend",
      "transition",
      {
        head: `<style>
#box { width: 10px; height: 10px; background: #c00; transition: width 100ms linear; }
#box.wide { width: 200px; }
</style>`,
        body: `<div id="box"></div>`,
        script: `addEventListener("load", () => {
  const box = document.getElementById("box");
  let done = false;
  const finish = (via) => {
    if (done) return;
    done = true;
    box.dataset.via = via;
    render(marker);
  };
  // Reduced motion does not stop a transition unless the page's CSS asks it to, but should the
  // transition not run, the content still appears late. When it runs, only its end renders.
  const fallback = setTimeout(() => finish("timeout"), 120);
  box.addEventListener("transitionrun", () => clearTimeout(fallback));
  box.addEventListener("transitionend", () => finish("transitionend"));
  box.getBoundingClientRect();
  box.classList.add("wide");
});`,
      },
      (html, row) => {
        row.note = `via ${/data-via="(\w+)"/.exec(html)?.[1] ?? "?"}`;
      },
    );
  });
});

describe("settling: late content from intervals and scheduled tasks", () => {
  it("a setInterval(120) poll renders on its first tick", async () => {
    await captureLate("19 setInterval(120) → render", "interval", {
      script: `addEventListener("load", () => {
  const poll = setInterval(() => {
    clearInterval(poll);
    render(marker);
  }, 120);
});`,
    });
  });

  it("scheduler.postTask with a 120 ms delay renders", async () => {
    await captureLate("20 scheduler.postTask({ delay: 120 }) → render", "post-task", {
      script: `addEventListener("load", () => {
  if (globalThis.scheduler?.postTask) scheduler.postTask(() => render(marker), { delay: 120 });
  else setTimeout(() => render(marker), 120);
});`,
    });
  });
});

describe("settling: a page with activity the tracker cannot foresee gets the full quiet window", () => {
  it("an EventSource message 100 ms after it opens, then render", async () => {
    site.setRoute("/settling/data/events", async (_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store" });
      res.write(": open\n\n");
      await sleep(100);
      res.write(`data: ${markerOf("event-source")}\n\n`);
      // The stream stays open, as a live feed's does.
    });
    await captureLate("17 EventSource message (100 ms) → render", "event-source", {
      script: `addEventListener("load", () => {
  const events = new EventSource("/settling/data/events");
  events.onmessage = (event) => render(event.data);
});`,
    });
  });
});

describe("settling: a source the tracker cannot foresee counts only while it is open", () => {
  it("a worker terminated once it answered (WordPress's emoji check) leaves the page accounted for", async () => {
    site.setPage("/settling/data/echo-worker.js", "postMessage('ready');\n", JS_TYPE);
    await captureLate(
      "18 worker answered, terminated → setTimeout(50) → render",
      "terminated-worker",
      {
        script: `addEventListener("load", () => {
  const worker = new Worker("/settling/data/echo-worker.js");
  worker.onmessage = () => {
    worker.terminate();
    setTimeout(() => render(marker), 50);
  };
});`,
      },
      (_html, row) => {
        assert.equal(
          row.fullQuiet,
          false,
          "a terminated worker still held the page to the full quiet window",
        );
      },
    );
  });
});

describe("settling: pages that never stop must not hold the capture up", () => {
  it("a perpetual requestAnimationFrame loop drawing on a canvas", async () => {
    await captureBusy(
      "A perpetual rAF canvas loop",
      "raf-canvas",
      `<canvas id="canvas" width="100" height="100"></canvas>`,
      `const context = document.getElementById("canvas").getContext("2d");
let frame = 0;
const draw = () => {
  frame++;
  context.fillStyle = "hsl(" + (frame % 360) + " 80% 50%)";
  context.fillRect(0, 0, 100, 100);
  requestAnimationFrame(draw);
};
requestAnimationFrame(draw);`,
    );
  });

  it("an async animation loop (each frame requested after an await: a new chain every time)", async () => {
    const row = await captureBusy(
      "C async rAF canvas loop",
      "async-raf",
      `<canvas id="canvas" width="100" height="100"></canvas>`,
      `const context = document.getElementById("canvas").getContext("2d");
let frame = 0;
const loop = async () => {
  frame++;
  context.fillStyle = "hsl(" + (frame % 360) + " 80% 50%)";
  context.fillRect(0, 0, 100, 100);
  await Promise.resolve();
  requestAnimationFrame(loop);
};
requestAnimationFrame(loop);`,
    );
    // Waiting on its callbacks is capped well below the idle wait's own bound (1.5 s).
    assert.ok((row.settleMs ?? 0) < 1_000, `settling took ${row.settleMs} ms`);
  });

  it("a scroll handler that updates a style in the next frame does not get the page taken again", async () => {
    const row = await captureBusy(
      "D scroll handler → rAF style update",
      "scroll-raf",
      `<div style="height: 3000px">tall</div><div id="bar" style="position: fixed; top: 0; height: 4px; width: 0; background: red"></div>`,
      `addEventListener("scroll", () => {
  requestAnimationFrame(() => {
    document.getElementById("bar").style.width = Math.round(scrollY / 30) + "%";
  });
});`,
    );
    assert.equal(row.retaken, false);
  });

  it("a ticker rewriting itself every 40 ms is recognised as one", async () => {
    const row = await captureBusy(
      "E ticker, a DOM change every 40 ms",
      "ticker",
      `<p id="ticker">0</p>`,
      `let n = 0;
const tick = () => {
  document.getElementById("ticker").textContent = String(++n);
  setTimeout(tick, 40);
};
tick();`,
    );
    // Churn is recognised after 500 ms of it, not at the idle wait's 1.5 s bound.
    assert.ok((row.settleMs ?? 0) < 1_200, `settling took ${row.settleMs} ms`);
  });

  it("a transition restarted every second is waited for a while at most", async () => {
    const row = await captureBusy(
      "F 950 ms transition, restarted every second",
      "carousel",
      `<style>#slide { width: 10px; height: 10px; background: #06c; transition: width 950ms linear; } #slide.wide { width: 300px; }</style><div id="slide"></div>`,
      `const slide = document.getElementById("slide");
slide.getBoundingClientRect();
slide.classList.add("wide");
setInterval(() => slide.classList.toggle("wide"), 1000);`,
    );
    assert.ok((row.settleMs ?? 0) < 700, `settling took ${row.settleMs} ms`);
  });

  it("a setInterval(100) poll that never changes anything", async () => {
    await captureBusy(
      "B perpetual setInterval(100) poll",
      "interval-poll",
      "",
      `let polls = 0;
setInterval(() => {
  polls++;
}, 100);`,
    );
  });
});
