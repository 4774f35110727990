// Small DOM and timing helpers shared by the page's modules.

import { pickIcon } from "./icons.js";

/** Create an element: el("button", {class: "x", dataset: {testid: "y"}, onclick}, child, ...). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** URL of a bundled SVG icon: the first of `names` (a name or a list) that exists, else `fallback`. */
export function iconUrl(names, fallback = "kind") {
  return `/static/icons/${pickIcon(Array.isArray(names) ? names : [names], fallback)}.svg`;
}

/** <img> of a bundled icon; decorative (alt "") unless `alt` is given. */
export function icon(names, { fallback = "kind", alt = "", cls = "icon" } = {}) {
  return el("img", { src: iconUrl(names, fallback), alt, class: cls, draggable: "false" });
}

/**
 * Run `task` a moment after the last `schedule()` call, never twice at once.
 * A request that comes while the task runs makes it run exactly once more afterwards.
 * `now()` skips the wait and returns a promise that settles when no run is left to do.
 */
export function singleFlight(task, delayMs) {
  let timer = null; // pending debounce timer id
  let running = false; // a task is in flight
  let again = false; // a request came while in flight
  let idle = null; // promise that resolves when the current burst of runs is over
  let resolveIdle = null;
  function go() {
    clearTimeout(timer);
    timer = null;
    if (running) {
      again = true;
      return idle;
    }
    if (!idle) idle = new Promise((resolve) => (resolveIdle = resolve));
    const done = idle;
    running = true;
    Promise.resolve()
      .then(task)
      .catch(() => {}) // the task reports its own failures
      .finally(() => {
        running = false;
        if (again) {
          again = false;
          go();
        } else {
          idle = null;
          resolveIdle();
        }
      });
    return done;
  }
  return {
    schedule() {
      clearTimeout(timer);
      timer = setTimeout(go, delayMs);
    },
    now: go,
    cancel() {
      clearTimeout(timer);
      timer = null;
      again = false;
    },
    get busy() {
      return running;
    },
  };
}

/** True when the person asked the system for less motion. */
export function reducedMotion() {
  return window.matchMedia("(prefers-reduced-motion: reduce)").matches;
}

/** Start a download of `blob` (or a same-origin URL) under `filename`. */
export function download(blobOrUrl, filename) {
  const url = typeof blobOrUrl === "string" ? blobOrUrl : URL.createObjectURL(blobOrUrl);
  const link = el("a", { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  if (typeof blobOrUrl !== "string") setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** Load a Blob as an <img> that is ready to draw. */
export function blobToImage(blob) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    const url = URL.createObjectURL(blob);
    img.onload = () => {
      URL.revokeObjectURL(url);
      resolve(img);
    };
    img.onerror = () => {
      URL.revokeObjectURL(url);
      reject(new Error("image did not load"));
    };
    img.src = url;
  });
}
