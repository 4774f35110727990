// A photo of a drawing on paper: the studio finds the page, shows the drawing as the models will
// see it laid over the photo, lets the page's corners be moved when they were found wrong, and
// puts the drawing on the board, where it becomes a picture and is saved like any canvas drawing.
// The photo itself stays in the browser: the server reads it and forgets it.

import * as api from "./api.js";
import { openDialog, say, sayError } from "./dialogs.js";
import { aria, text } from "./i18n.js";
import { el, icon, singleFlight } from "./util.js";

const PHOTO_TYPE = "image/jpeg"; // the shrunk photo sent to the server
const PHOTO_QUALITY = 0.9; // its JPEG quality (0..1)
const NUDGE = 0.01; // an arrow key moves a corner by this fraction of the photo's long side (5x with Shift)
const NUDGE_DELAY_MS = 450; // read the page again this long after the last arrow key
const CORNERS = ["tl", "tr", "br", "bl"]; // the page's corners in the server's order
const SVG = "http://www.w3.org/2000/svg";

/** A hidden file input for photos; `camera` opens the back camera on phones and tablets. */
function photoInput(testid, camera) {
  return el("input", { type: "file", accept: "image/*", capture: camera ? "environment" : null, class: "sr-only", dataset: { testid } });
}

/** A button-looking label that opens `input` (a label works with the camera on every phone). */
function pickButton(cls, testid, iconName, key, input) {
  return el("label", { class: `btn ${cls}`, dataset: { testid } }, icon(iconName), text(el("span", { class: "trace-label" }), key), input);
}

/** Call `use(file)` when a file is chosen; the input is emptied so that the same file can be chosen again. */
function onFile(input, use) {
  input.addEventListener("change", () => {
    const file = input.files?.[0];
    input.value = "";
    if (file) use(file);
  });
}

/** The photo upright (as the camera held it), shrunk to at most `side` px: {blob, width, height, url}. */
async function shrinkPhoto(file, side) {
  const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  const k = Math.min(1, side / Math.max(bitmap.width, bitmap.height));
  const width = Math.max(1, Math.round(bitmap.width * k));
  const height = Math.max(1, Math.round(bitmap.height * k));
  const canvas = el("canvas", { width, height });
  canvas.getContext("2d").drawImage(bitmap, 0, 0, width, height);
  bitmap.close();
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, PHOTO_TYPE, PHOTO_QUALITY));
  if (!blob) throw new Error("the photo could not be encoded");
  return { blob, width, height, url: URL.createObjectURL(blob) };
}

/** The 3x3 projective map (a..h, i = 1) taking the four `from` points to the four `to` points. */
function homography(from, to) {
  const rows = [];
  for (let i = 0; i < 4; i += 1) {
    const [x, y] = from[i];
    const [u, v] = to[i];
    rows.push([x, y, 1, 0, 0, 0, -u * x, -u * y, u], [0, 0, 0, x, y, 1, -v * x, -v * y, v]);
  }
  for (let c = 0; c < 8; c += 1) { // Gauss-Jordan with partial pivoting
    let p = c;
    for (let r = c + 1; r < 8; r += 1) if (Math.abs(rows[r][c]) > Math.abs(rows[p][c])) p = r;
    [rows[c], rows[p]] = [rows[p], rows[c]];
    for (let r = 0; r < 8; r += 1) {
      if (r === c || !rows[c][c]) continue;
      const f = rows[r][c] / rows[c][c];
      for (let k = c; k < 9; k += 1) rows[r][k] -= f * rows[c][k];
    }
  }
  return rows.map((r, i) => r[8] / r[i]);
}

/** CSS transform that lays a w x h element (origin at its top-left) onto the quadrilateral `quad`. */
function warpCss(w, h, quad) {
  const [a, b, c, d, e, f, g, k] = homography([[0, 0], [w, 0], [w, h], [0, h]], quad);
  return `matrix3d(${a},${d},0,${g},${b},${e},0,${k},0,0,1,0,${c},${f},0,1)`;
}

/** The drawing's data URL as a canvas on white paper, ready for the board. */
async function onWhite(url) {
  const img = new Image();
  img.src = url;
  await img.decode();
  const out = el("canvas", { width: img.naturalWidth, height: img.naturalHeight });
  const ctx = out.getContext("2d");
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.drawImage(img, 0, 0);
  return out;
}

/**
 * Add the "photo of a paper drawing" button: an icon button beside undo / redo / clear in
 * `actions`, and a labelled one in the tool box `tools` (shown instead on phones, where the row
 * under the board has no room); both open the same camera input. `photoSide`: GET /api/studio's
 * photo_side; `usePaper(canvas)`: put the read drawing (on white) on the board and make its picture.
 */
export function setupPaperPhoto({ tools, actions, photoSide, usePaper }) {
  const input = photoInput("paper-file", true);
  input.id = "paper-file";
  const iconButton = el("label", { class: "icon-btn big paper-photo-btn", for: input.id, dataset: { testid: "paper-photo" } }, icon("photo"));
  aria(iconButton, "paper.button");
  actions.querySelector(".make-it-real").before(iconButton, input);
  const button = el("label", { class: "btn trace-btn paper-photo", for: input.id, dataset: { testid: "paper-photo-tools" } }, icon("photo"),
    text(el("span", { class: "trace-label" }), "paper.button"));
  let group = tools.querySelector(".trace-group");
  if (!group) {
    group = aria(el("div", { class: "trace-group", role: "group" }), "paper.group");
    tools.append(group);
  }
  group.prepend(button);
  onFile(input, async (file) => {
    let photo;
    try {
      photo = await shrinkPhoto(file, photoSide);
    } catch {
      say("paper.unreadable", { tone: "error" });
      return;
    }
    const { done } = openDialog({
      titleKey: "paper.title",
      iconName: "photo",
      testid: "paper-panel",
      cls: "paper-sheet",
      build: (body, close) => buildPanel(body, close, photo, photoSide),
    });
    const drawing = await done;
    if (drawing) usePaper(drawing);
  });
}

function buildPanel(body, close, firstPhoto, photoSide) {
  let photo = null; // {blob, width, height, url} being read
  let answer = null; // the server's newest reading of it (POST /api/paper)
  let corners = null; // [[x, y] x 4] photo px, as shown (moved by hand before the server answers)
  let ticket = 0; // counts readings: an answer to an older one is dropped

  const img = el("img", { class: "pp-photo", alt: "", draggable: "false" });
  const lines = el("img", { class: "pp-lines", alt: "", draggable: "false", dataset: { testid: "paper-lines" } });
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", "pp-outline");
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("aria-hidden", "true");
  const outline = document.createElementNS(SVG, "polygon");
  svg.append(outline);
  const handles = CORNERS.map((name) =>
    aria(el("button", { type: "button", class: "pp-corner", dataset: { testid: `paper-corner-${name}` } }), `paper.corner_${name}`));
  const frame = el("div", { class: "pp-frame", dataset: { testid: "paper-frame", state: "busy" } }, img, lines, svg, ...handles);
  aria(frame, "paper.frame_label");
  const note = el("p", { class: "pp-note", role: "status", dataset: { testid: "paper-note" } });
  const use = el("button", { type: "button", class: "btn primary", disabled: true, dataset: { testid: "paper-use" } }, icon("check"), text(el("span"), "paper.use"));
  const retakeInput = photoInput("paper-retake-file", true);
  const chooseInput = photoInput("paper-choose-file", false);
  const retake = pickButton("pp-again", "paper-retake", "photo", "paper.retake", retakeInput);
  const choose = pickButton("pp-again", "paper-choose", "album", "paper.choose", chooseInput);
  body.append(frame, note, el("div", { class: "dialog-actions pp-actions" }, use, retake, choose));

  const show = () => {
    if (!photo || !corners) return;
    const k = frame.clientWidth / photo.width; // CSS px per photo px
    outline.setAttribute("points", corners.map(([x, y]) => `${x},${y}`).join(" "));
    handles.forEach((h, i) => {
      h.style.left = `${(corners[i][0] / photo.width) * 100}%`;
      h.style.top = `${(corners[i][1] / photo.height) * 100}%`;
    });
    if (answer) {
      lines.style.width = `${answer.drawing_width}px`;
      lines.style.height = `${answer.drawing_height}px`;
      lines.style.transform = warpCss(answer.drawing_width, answer.drawing_height, answer.drawing_corners.map(([x, y]) => [x * k, y * k]));
    }
  };
  new ResizeObserver(show).observe(frame);

  async function read(byHand) {
    const mine = (ticket += 1);
    frame.dataset.state = "busy";
    use.disabled = true;
    text(note, "paper.reading");
    try {
      const a = await api.readPaper(photo.blob, byHand ? corners : null);
      if (mine !== ticket) return;
      answer = a;
      corners = a.corners.map((p) => [...p]);
      lines.src = a.drawing;
      frame.dataset.state = "shown";
      frame.dataset.page = a.page;
      text(note, `paper.page_${a.page}`);
      use.disabled = false;
      show();
    } catch (err) {
      if (mine !== ticket) return;
      frame.dataset.state = "failed";
      text(note, err.status === 422 ? "paper.no_drawing" : "paper.failed");
      sayError(err, "paper.no_drawing");
    }
  }
  const readByHand = singleFlight(() => read(true), NUDGE_DELAY_MS);

  function setPhoto(next) {
    if (photo) URL.revokeObjectURL(photo.url);
    photo = next;
    answer = null;
    corners = [[0, 0], [photo.width, 0], [photo.width, photo.height], [0, photo.height]];
    img.src = photo.url;
    lines.removeAttribute("src");
    frame.style.setProperty("--ar", String(photo.width / photo.height));
    svg.setAttribute("viewBox", `0 0 ${photo.width} ${photo.height}`);
    show();
    read(false);
  }
  const another = async (file) => {
    try {
      setPhoto(await shrinkPhoto(file, photoSide));
    } catch {
      say("paper.unreadable", { tone: "error" });
    }
  };
  onFile(retakeInput, another);
  onFile(chooseInput, another);

  // ---- moving the corners: drag them, or focus one and use the arrow keys
  const clamp = (v, hi) => Math.min(hi, Math.max(0, v));
  const moveTo = (i, x, y) => {
    corners[i] = [clamp(x, photo.width), clamp(y, photo.height)];
    frame.dataset.state = "moved"; // the lines shown belong to the old corners until the server answers
    show();
  };
  handles.forEach((h, i) => {
    h.addEventListener("pointerdown", (e) => {
      e.preventDefault();
      try {
        h.setPointerCapture(e.pointerId);
      } catch {
        // synthetic pointers cannot be captured
      }
      h.dataset.dragging = "true";
    });
    h.addEventListener("pointermove", (e) => {
      if (h.dataset.dragging !== "true") return;
      const box = frame.getBoundingClientRect();
      moveTo(i, ((e.clientX - box.left) / box.width) * photo.width, ((e.clientY - box.top) / box.height) * photo.height);
    });
    const drop = () => {
      if (h.dataset.dragging !== "true") return;
      delete h.dataset.dragging;
      readByHand.now();
    };
    h.addEventListener("pointerup", drop);
    h.addEventListener("pointercancel", drop);
    h.addEventListener("keydown", (e) => {
      const step = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }[e.key];
      if (!step) return;
      e.preventDefault();
      const d = NUDGE * Math.max(photo.width, photo.height) * (e.shiftKey ? 5 : 1);
      moveTo(i, corners[i][0] + step[0] * d, corners[i][1] + step[1] * d);
      readByHand.schedule();
    });
  });

  use.addEventListener("click", async () => {
    if (!answer) return;
    use.disabled = true;
    try {
      const drawing = await onWhite(answer.drawing);
      URL.revokeObjectURL(photo.url);
      close(drawing);
    } catch {
      use.disabled = false;
      say("paper.failed", { tone: "error" });
    }
  });
  setPhoto(firstPhoto);
}
