// "Surprise me!": the studio makes up a picture and shows it faintly under the drawing to trace over.
// The trace picture lives only on the screen, in its own layer behind the drawing canvas: the
// drawing board never sees it, so it is not in the strokes, in what "Make it real!" sends,
// in downloads or in the album.

import * as api from "./api.js";
import { say, sayError } from "./dialogs.js";
import { aria, t, text } from "./i18n.js";
import { state, subscribe } from "./state.js";
import { el, icon, reducedMotion } from "./util.js";

/**
 * Add the surprise button and its hide button to `ui.tools` and drive the trace layer.
 * `ui` = {tools: the tool box, paper: the canvas's frame, layer: the <img> behind the canvas,
 *         kinds: what the sampler can make when asked for a kind (GET /api/studio's surprise_kinds)}.
 * Call only when GET /api/studio says surprise pictures are installed.
 * @returns {{hide: Function}} hide() takes the trace picture away
 */
export function setupSurprise(ui) {
  const label = text(el("span", { class: "trace-label" }), "surprise.button");
  const button = el("button", { type: "button", class: "btn trace-btn surprise", dataset: { testid: "surprise" } }, icon("surprise"), label);
  const hider = el(
    "button",
    { type: "button", class: "btn trace-btn hide-trace", dataset: { testid: "trace-hide" }, hidden: true },
    icon("hide"),
    text(el("span", { class: "trace-label" }), "surprise.hide"),
  );
  aria(hider, "surprise.hide_aria");
  const group = aria(el("div", { class: "trace-group", role: "group" }, button, hider), "surprise.group");
  ui.tools.append(group);

  const layer = ui.layer;
  layer.dataset.i18nAlt = "surprise.alt";
  let url = null; // object URL of the trace picture on show, or null
  let ticket = 0; // counts requests and hides: an answer that arrives after either is dropped
  let busy = false; // a picture is on its way
  let tipShown = false; // the "trace over it" tip comes once per visit
  const refused = new Set(); // kinds the sampler cannot make (it answered 422): ask without a kind

  function setBusy(on) {
    busy = on;
    button.setAttribute("aria-busy", String(on));
    button.classList.toggle("busy", on);
    text(label, on ? "surprise.busy" : "surprise.button");
  }

  /** The picture as a Blob: of the chosen kind when the sampler makes it, else of any kind. */
  async function fetchPicture() {
    const makes = (k) => (ui.kinds || []).includes(k);
    const kind = state.kind && makes(state.kind) && !refused.has(state.kind) ? state.kind : null;
    try {
      return await api.surprise(kind);
    } catch (err) {
      if (err.status !== 422 || !kind) throw err;
      refused.add(kind);
      return api.surprise(null);
    }
  }

  function forget() {
    if (url) URL.revokeObjectURL(url);
    url = null;
  }

  function show(next) {
    forget();
    url = next;
    layer.src = url;
    layer.alt = t("surprise.alt");
    layer.classList.remove("fade-in");
    if (!reducedMotion()) {
      void layer.offsetWidth; // restart the fade
      layer.classList.add("fade-in");
    }
    layer.hidden = false;
    ui.paper.classList.add("tracing");
    hider.hidden = false;
  }

  function hide() {
    ticket += 1;
    const hadFocus = document.activeElement === hider;
    layer.hidden = true;
    layer.removeAttribute("src");
    layer.classList.remove("fade-in");
    ui.paper.classList.remove("tracing");
    hider.hidden = true;
    forget();
    if (hadFocus) button.focus(); // the hide button is gone: keep the keyboard's place nearby
  }

  button.addEventListener("click", async () => {
    if (busy) return;
    const mine = (ticket += 1);
    setBusy(true);
    try {
      const blob = await fetchPicture();
      const next = URL.createObjectURL(blob);
      const probe = new Image();
      probe.src = next;
      try {
        await probe.decode(); // show the layer only once the picture can be drawn
      } catch (err) {
        URL.revokeObjectURL(next);
        throw err;
      }
      if (mine !== ticket) {
        URL.revokeObjectURL(next); // hidden or cleared while it was on its way
        return;
      }
      show(next);
      if (!tipShown) {
        tipShown = true;
        say("surprise.tip");
      }
    } catch (err) {
      sayError(err);
    } finally {
      setBusy(false);
    }
  });
  hider.addEventListener("click", hide);
  subscribe((st, patch) => {
    if ("drawingNo" in patch) hide(); // a new drawing starts on clean paper
  });
  return { hide };
}
