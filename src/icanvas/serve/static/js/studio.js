// The studio's actions: make the picture (on demand or live), guess the drawing, download, save.

import * as api from "./api.js";
import { confirmDialog, say, sayError } from "./dialogs.js";
import { aria, kindName, t, text, thing } from "./i18n.js";
import { findKind, state, subscribe, update } from "./state.js";
import { blobToImage, download, el, icon, reducedMotion, singleFlight } from "./util.js";

const LIVE_DELAY_MS = 700; // live picture: wait this long after a stroke ends before asking again
const GUESS_DELAY_MS = 500; // recognizer: wait this long after a stroke ends
const GUESS_MIN_PROB = 0.2; // show a guess only when the recognizer is at least this sure (0..1); pre-selecting a
// kind takes the server's `preselect` flag (the recognizer model's own threshold), not this number
const PAIR_GAP = 24; // white space around and between the two pictures in a downloaded pair, px
const SAVE_RETRIES = 2; // a save that got no answer is sent again this many times, with the same key
const SAVE_RETRY_MS = 1500; // wait before sending an unanswered save again, ms

/** A fresh random idempotency key for one save: 32 hex digits (works on plain http too). */
function newSaveKey() {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Save, sending it again when no answer came back; the key makes the server save it once. */
async function saveOnce(request) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await api.saveCreation(request);
    } catch (err) {
      const unanswered = err instanceof api.ApiError && [0, 502, 504].includes(err.status);
      if (!unanswered || attempt >= SAVE_RETRIES) throw err;
      await new Promise((resolve) => setTimeout(resolve, SAVE_RETRY_MS));
    }
  }
}

/**
 * Connect the studio's buttons. `ui` holds the page's elements; `hooks` the other panels:
 * {openWho(), openParent(), showRewards(result) -> Promise<"new"|...>}.
 */
export function setupStudio(board, ui, hooks) {
  let picture = null; // {blob, url, kind, version} of the newest picture
  let savedVersion = null; // board.version when the drawing was last saved
  let pendingSave = null; // {version, kind, missionId, key} of a save that got no answer: trying it again reuses the key
  let manual = false; // the coming generation was asked for with the button

  const refreshButtons = () => {
    ui.undo.disabled = !board.canUndo;
    ui.redo.disabled = !board.canRedo;
    ui.clear.disabled = board.isBlank() && !board.canUndo;
    ui.download.disabled = !picture;
  };

  // ---------------------------------------------------------------- picture
  function setBusy(busy) {
    ui.generate.setAttribute("aria-busy", String(busy));
    ui.generate.classList.toggle("busy", busy);
    text(ui.generateLabel, busy ? "actions.generating" : "actions.generate");
    ui.frame.classList.toggle("working", busy);
  }

  function showPicture(blob, kind, version, animate) {
    if (picture) URL.revokeObjectURL(picture.url);
    picture = { blob, url: URL.createObjectURL(blob), kind, version };
    ui.picture.src = picture.url;
    const name = { kind: kindName(findKind(kind), kind) };
    ui.picture.dataset.i18nAlt = "result.alt";
    ui.picture.dataset.i18nAltArgs = JSON.stringify(name);
    ui.picture.alt = t("result.alt", name);
    ui.picture.hidden = false;
    ui.placeholder.hidden = true;
    ui.frame.dataset.state = "picture";
    if (animate) ui.frame.scrollIntoView({ block: "nearest", behavior: reducedMotion() ? "auto" : "smooth" });
    if (animate && !reducedMotion()) {
      ui.picture.classList.remove("appear");
      void ui.picture.offsetWidth; // restart the animation
      ui.picture.classList.add("appear");
    }
    refreshButtons();
  }

  function dropPicture() {
    if (picture) URL.revokeObjectURL(picture.url);
    picture = null;
    ui.picture.hidden = true;
    ui.picture.removeAttribute("src");
    ui.placeholder.hidden = false;
    ui.frame.dataset.state = "empty";
    refreshButtons();
  }

  async function makePicture() {
    const asked = manual;
    manual = false;
    if (board.isBlank()) {
      if (asked) say("err.blank", { tone: "error" });
      return;
    }
    if (!state.kind) {
      if (asked) say("err.pick_kind", { tone: "error" });
      ui.kindPicker.classList.add("nudge");
      return;
    }
    const version = board.version;
    const kind = state.kind;
    setBusy(true);
    try {
      const blob = await api.generate(await board.toBlob(), kind);
      showPicture(blob, kind, version, asked || !picture);
    } catch (err) {
      if (asked || err.status !== 503) sayError(err);
    } finally {
      setBusy(false);
    }
  }
  const generator = singleFlight(makePicture, LIVE_DELAY_MS);

  ui.generate.addEventListener("click", () => {
    manual = true;
    generator.now();
  });

  // ---------------------------------------------------------------- guesses
  const hideGuess = () => {
    ui.guess.hidden = true;
    delete ui.guess.dataset.label;
  };

  async function guess() {
    if (board.isBlank() || state.kindByHand) {
      hideGuess(); // once the child picked the kind, a guess can only contradict them
      return;
    }
    let guesses;
    try {
      guesses = await api.recognize(await board.toBlob());
    } catch {
      return; // a guess is a nicety: stay quiet when it fails
    }
    const top = guesses[0];
    if (!top || top.prob < GUESS_MIN_PROB || board.isBlank() || state.kindByHand) {
      hideGuess(); // the kind may have been picked by hand while the guess was on its way
      return;
    }
    ui.guess.replaceChildren(icon(top.label, { cls: "guess-icon" }), text(el("span"), "guess.question", { thing: thing(top.label) }));
    ui.guess.dataset.label = top.label;
    ui.guess.hidden = false;
    // pre-select only a sure guess, and keep the current kind when the guess may be it (a face may be a character)
    const kinds = (top.kinds || (top.kind ? [top.kind] : [])).filter((k) => findKind(k));
    if (top.preselect && kinds.length && !kinds.includes(state.kind)) update({ kind: kinds[0] });
  }
  const guesser = singleFlight(guess, GUESS_DELAY_MS);

  board.hooks.onStrokeEnd = () => {
    if (state.studio.recognizer) guesser.schedule();
    if (ui.live.checked) generator.schedule();
  };
  board.hooks.onChange = refreshButtons;
  ui.live.addEventListener("change", () => {
    if (ui.live.checked && !board.isBlank()) generator.schedule();
  });

  // ---------------------------------------------------------------- undo, redo, clear
  const afterEdit = () => {
    if (state.studio.recognizer) guesser.schedule();
    if (ui.live.checked) generator.schedule();
  };
  ui.undo.addEventListener("click", () => board.undo() && afterEdit());
  ui.redo.addEventListener("click", () => board.redo() && afterEdit());
  document.addEventListener("keydown", (e) => {
    if (!(e.ctrlKey || e.metaKey) || e.key.toLowerCase() !== "z" || document.querySelector("dialog[open]")) return;
    if (e.target.closest?.("input, textarea")) return;
    e.preventDefault();
    if (e.shiftKey ? board.redo() : board.undo()) afterEdit();
  });

  function newDrawing() {
    generator.cancel();
    guesser.cancel();
    board.clear();
    dropPicture();
    savedVersion = null;
    pendingSave = null;
    hideGuess();
    update({ kindByHand: false, drawingNo: (state.drawingNo || 0) + 1 });
  }

  /** Start a new drawing from a photo of a paper drawing (read, on white), then guess it and make its picture. */
  async function usePaper(drawing) {
    newDrawing();
    board.placeImage(drawing);
    say("paper.placed");
    if (state.studio.recognizer) await guesser.now(); // a sure guess picks the kind before the picture is made
    manual = true;
    generator.now();
  }

  ui.clear.addEventListener("click", async () => {
    const ok = await confirmDialog({
      titleKey: "clear.title",
      textKey: "clear.text",
      iconName: "trash",
      testid: "confirm-clear",
      buttons: [
        { key: "clear.ok", value: true, cls: "danger", testid: "confirm-ok", icon: "trash" },
        { key: "common.cancel", value: false, testid: "confirm-cancel" },
      ],
    });
    if (ok) newDrawing();
  });

  // ---------------------------------------------------------------- download the pair
  ui.download.addEventListener("click", async () => {
    if (!picture) return;
    const size = board.size;
    const out = el("canvas", { width: 2 * size + 3 * PAIR_GAP, height: size + 2 * PAIR_GAP });
    const ctx = out.getContext("2d");
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, out.width, out.height);
    ctx.drawImage(board.toCanvas(), PAIR_GAP, PAIR_GAP);
    const img = await blobToImage(picture.blob);
    const k = Math.min(size / img.naturalWidth, size / img.naturalHeight); // fit the picture in a size x size box
    const w = img.naturalWidth * k;
    const h = img.naturalHeight * k;
    ctx.drawImage(img, 2 * PAIR_GAP + size + (size - w) / 2, PAIR_GAP + (size - h) / 2, w, h);
    ctx.strokeStyle = "#d9d4cc";
    ctx.lineWidth = 2;
    ctx.strokeRect(PAIR_GAP - 1, PAIR_GAP - 1, size + 2, size + 2);
    ctx.strokeRect(2 * PAIR_GAP + size - 1, PAIR_GAP - 1, size + 2, size + 2);
    const stamp = new Date().toISOString().slice(0, 16).replace(/[-:T]/g, "");
    out.toBlob((blob) => download(blob, `icanvas-${picture.kind || "picture"}-${stamp}.png`), "image/png");
  });

  // ---------------------------------------------------------------- save
  async function askForProfile() {
    const parent = state.me.role === "parent";
    const choice = await confirmDialog({
      titleKey: "save.title",
      textKey: parent ? "save.need_child" : "save.need_parent",
      iconName: "user",
      testid: "save-needs-profile",
      buttons: [
        { key: parent ? "save.choose" : "save.ask_grownup", value: "go", cls: "primary", testid: "save-go" },
        { key: "common.not_now", value: null, testid: "confirm-cancel" },
      ],
    });
    if (choice === "go") (parent ? hooks.openWho : hooks.openParent)();
  }

  ui.save.addEventListener("click", async () => {
    if (board.isBlank()) return say("err.blank", { tone: "error" });
    if (state.me.role !== "child") return askForProfile();
    if (savedVersion === board.version) return say("save.already");
    if (!state.kind) return say("err.pick_kind", { tone: "error" });
    if (!picture || picture.version !== board.version) {
      manual = true;
      await generator.now(); // save the picture that belongs to this drawing
    }
    ui.save.disabled = true;
    try {
      const version = board.version;
      const missionId = state.mission?.id ?? null;
      const p = pendingSave;
      if (!p || p.version !== version || p.kind !== state.kind || p.missionId !== missionId) {
        pendingSave = { version, kind: state.kind, missionId, key: newSaveKey() }; // a new save, not a retry
      }
      const result = await saveOnce({
        drawing: await board.toBlob(),
        picture: picture && picture.version === version ? picture.blob : null,
        kind: state.kind,
        colours: board.coloursUsed(),
        seconds: board.secondsDrawing(),
        missionId,
        idempotencyKey: pendingSave.key,
      });
      pendingSave = null;
      savedVersion = version;
      const next = await hooks.showRewards(result);
      if (next === "new") newDrawing();
    } catch (err) {
      sayError(err);
    } finally {
      ui.save.disabled = false;
    }
  });

  subscribe((st, patch) => {
    if ("kind" in patch) ui.kindPicker.classList.remove("nudge");
    if (patch.kindByHand) {
      guesser.cancel(); // a guess asked for before the choice must not come back
      hideGuess(); // a kind chosen by hand (or by a mission) clears the guess
    }
  });
  aria(ui.undo, "actions.undo");
  aria(ui.redo, "actions.redo");
  aria(ui.clear, "actions.clear");
  refreshButtons();
  return { newDrawing, usePaper };
}
