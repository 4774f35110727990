// Photo -> character, for grown-ups only: choose a photo, tap the person (the server answers
// their mask, shown over the photo), pick a style, then download the result or keep it in the
// grown-up's own album. Opened from the grown-ups' corner; it closes itself when the grown-up
// leaves (a child's profile, signing out), and tells the server to forget the photo on closing.

import * as api from "./api.js";
import { confirmDialog, openDialog, say, sayError } from "./dialogs.js";
import { aria, localText, text } from "./i18n.js";
import { state, subscribe } from "./state.js";
import { blobToImage, download, el, icon, reducedMotion } from "./util.js";

const LONG_PRESS_MS = 550; // a touch held this long marks "not the person", ms
const SLOP_PX = 12; // a touch that moves further than this is a scroll, not a tap, px
const TINT = [255, 64, 160]; // RGB of the overlay on the person
const TINT_ALPHA = 0.4; // opacity of that tint where the mask is full (0..1)
const SHADE_ALPHA = 0.45; // opacity of the black shade on what is not the person (0 = none)
const MB = 1024 * 1024;

/** A queue of requests to the server, one at a time (the server runs one per grown-up). */
function serial() {
  let chain = Promise.resolve();
  return (task) => {
    const run = chain.then(task, task);
    chain = run.catch(() => {});
    return run;
  };
}

function radioRow(cls, labelKey, testid) {
  const row = el("div", { class: cls, role: "radiogroup", dataset: { testid } });
  aria(row, labelKey);
  return row;
}

function choose(row, chosen) {
  for (const b of row.children) b.setAttribute("aria-checked", String(b === chosen));
}

/** The grown-up's own album: their saved pictures, newest first, each with a delete button. */
function albumSection() {
  const grid = el("ul", { class: "album-grid pt-album", dataset: { testid: "portrait-album" } });
  const load = async () => {
    let items = [];
    try {
      items = await api.portraits();
    } catch (err) {
      sayError(err);
    }
    grid.replaceChildren();
    if (!items.length) grid.append(text(el("li", { class: "note", dataset: { testid: "portrait-album-empty" } }), "portrait.album_empty"));
    for (const item of items) {
      const del = aria(el("button", { type: "button", class: "icon-btn", dataset: { testid: `portrait-delete-${item.id}` } }, icon("trash")), "portrait.delete");
      del.addEventListener("click", async () => {
        const ok = await confirmDialog({
          titleKey: "portrait.delete_title",
          textKey: "portrait.delete_text",
          iconName: "trash",
          testid: "confirm-delete-portrait",
          buttons: [
            { key: "parent.delete_ok", value: true, cls: "danger", testid: "confirm-ok", icon: "trash" },
            { key: "common.cancel", value: false, testid: "confirm-cancel" },
          ],
        });
        if (!ok) return;
        await api.deletePortrait(item.id).catch((err) => sayError(err));
        load();
      });
      const link = el("a", { class: "album-thumb", href: item.picture_url, target: "_blank", rel: "noopener" }, el("img", { src: item.picture_url, alt: "", loading: "lazy" }));
      aria(link, "portrait.album_item", { style: item.style || "-" });
      grid.append(el("li", { class: "album-card", dataset: { testid: `portrait-item-${item.id}` } }, link, el("div", { class: "album-tools" }, del)));
    }
  };
  return { section: el("section", { class: "pt-album-section" }, text(el("h3"), "portrait.album"), grid), load };
}

/** Open the photo page (a logged-in grown-up in the parent area only). */
export async function openPortrait() {
  if (state.me.role !== "parent") return; // the server refuses everyone else as well
  let info;
  try {
    info = await api.portraitStudio();
  } catch (err) {
    sayError(err);
    return;
  }
  const { close, done } = openDialog({
    titleKey: "portrait.title",
    iconName: "photo",
    testid: "portrait-panel",
    cls: "portrait-sheet",
    build: (body) => build(body, info),
  });
  const stop = subscribe((st, patch) => "me" in patch && st.me.role !== "parent" && close());
  done.then(() => {
    stop();
    api.forgetPhoto().catch(() => null); // the photo goes now, not minutes later
  });
}

function build(body, info) {
  const send = serial();
  let photo = null; // {width, height} of the photo as the server keeps it
  let photoUrl = null; // object URL of the chosen file, shown under the overlay
  let chosenFile = null; // the chosen photo itself, sent again to a server process that does not hold it
  let points = []; // clicks: {x, y, foreground} in photo px
  let background = false; // taps mark "not the person"
  let style = info.default_style;
  let result = null; // {blob, style} of the last picture made
  let maskWanted = false; // a mask request is queued for the newest clicks

  const privacy = el("p", { class: "pt-privacy", dataset: { testid: "portrait-privacy" } }, icon("lock"),
    text(el("span"), "portrait.privacy", { minutes: Math.round(info.photo_minutes) }));
  if (!info.available) {
    body.append(privacy, text(el("p", { class: "note", dataset: { testid: "portrait-unavailable" } }), "portrait.unavailable"));
    return;
  }

  // ---- the photo and the clicks
  const file = el("input", { type: "file", accept: "image/jpeg,image/png,image/webp", class: "sr-only", dataset: { testid: "portrait-file" } });
  const pickLabel = text(el("span"), "portrait.pick");
  const pick = el("label", { class: "btn primary pt-pick", dataset: { testid: "portrait-pick" } }, icon("photo"), pickLabel, file);
  // the empty place of the photo opens the file picker too, and takes a photo dropped on it
  const empty = el("label", { class: "pt-empty", dataset: { testid: "portrait-empty" } }, icon("photo", { cls: "pt-empty-icon" }),
    text(el("small", { class: "note" }), "portrait.pick_hint", { mb: Math.floor(info.max_upload_bytes / MB) }));
  empty.addEventListener("click", (e) => (e.preventDefault(), file.click()));
  empty.addEventListener("dragover", (e) => (e.preventDefault(), empty.classList.add("drop")));
  empty.addEventListener("dragleave", () => empty.classList.remove("drop"));
  empty.addEventListener("drop", (e) => {
    e.preventDefault();
    empty.classList.remove("drop");
    if (e.dataTransfer?.files?.[0]) usePhoto(e.dataTransfer.files[0]);
  });
  const img = el("img", { class: "pt-photo", alt: "", draggable: "false", dataset: { testid: "portrait-photo" } });
  const overlay = el("canvas", { class: "pt-overlay", dataset: { testid: "portrait-overlay" } });
  const ink = overlay.getContext("2d", { willReadFrequently: true }); // the mask is read back once per answer
  const dots = el("div", { class: "pt-dots", "aria-hidden": "true" });
  const frame = el("div", { class: "pt-frame", role: "img", hidden: true, dataset: { testid: "portrait-frame", mask: "none" } }, img, overlay, dots);
  aria(frame, "portrait.photo_label");
  const modes = radioRow("pt-modes", "portrait.modes", "portrait-modes");
  for (const [key, isBackground] of [["portrait.mode_person", false], ["portrait.mode_background", true]]) {
    const b = el("button", { type: "button", role: "radio", "aria-checked": String(!isBackground), dataset: { testid: isBackground ? "portrait-mode-background" : "portrait-mode-person" } },
      el("span", { class: `pt-dot-key ${isBackground ? "bg" : "fg"}`, "aria-hidden": "true" }), text(el("span"), key));
    b.addEventListener("click", () => ((background = isBackground), choose(modes, b)));
    modes.append(b);
  }
  const clicks = el("small", { class: "note pt-clicks", dataset: { testid: "portrait-clicks" } });
  const clear = el("button", { type: "button", class: "btn small", dataset: { testid: "portrait-clear" } }, icon("eraser"), text(el("span"), "portrait.clear"));
  const tools = el("div", { class: "pt-tools", hidden: true }, modes, clear, clicks);
  const hint = text(el("p", { class: "note pt-hint", hidden: true }), "portrait.tap_hint");

  // ---- styles and the result
  const styles = radioRow("pt-styles", "portrait.style", "portrait-styles");
  for (const s of info.styles) {
    const chip = el("button", { type: "button", role: "radio", class: "chip", "aria-checked": String(s.name === style), dataset: { testid: `portrait-style-${s.name}` } });
    chip.append(localText(el("span"), s.label));
    chip.addEventListener("click", () => ((style = s.name), choose(styles, chip)));
    styles.append(chip);
  }
  const makeLabel = text(el("span"), "portrait.make");
  const make = el("button", { type: "button", class: "make-it-real pt-make", disabled: true, dataset: { testid: "portrait-make" } }, icon("sparkle"), makeLabel);
  const picture = el("img", { alt: "", hidden: true, dataset: { testid: "portrait-result-image" } });
  aria(picture, "portrait.result_alt");
  const placeholder = text(el("p", { class: "pt-result-empty" }), "portrait.result_empty");
  const resultBox = el("figure", { class: "pt-result", dataset: { testid: "portrait-result", state: "empty" } }, picture, placeholder);
  const downloadBtn = el("button", { type: "button", class: "btn", disabled: true, dataset: { testid: "portrait-download" } }, icon("download"), text(el("span"), "actions.download"));
  const saveBtn = el("button", { type: "button", class: "btn primary", disabled: true, dataset: { testid: "portrait-save" } }, icon("save"), text(el("span"), "portrait.save"));
  const album = albumSection();

  body.append(
    privacy,
    el("div", { class: "pt-work" },
      el("section", { class: "pt-stage" }, pick, empty, frame, tools, hint),
      el("section", { class: "pt-side" }, text(el("h3"), "portrait.style"), styles, make, resultBox, el("div", { class: "pt-actions" }, downloadBtn, saveBtn))),
    album.section,
  );
  album.load();

  const paintDots = () => {
    dots.replaceChildren(...points.map((p) => {
      const dot = el("span", { class: `pt-dot ${p.foreground ? "fg" : "bg"}` });
      dot.style.left = `${((p.x + 0.5) / photo.width) * 100}%`;
      dot.style.top = `${((p.y + 0.5) / photo.height) * 100}%`;
      return dot;
    }));
    text(clicks, "portrait.clicks", { n: points.length });
    clear.disabled = !points.length;
    make.disabled = !points.some((p) => p.foreground);
  };
  const clearMask = () => {
    ink.clearRect(0, 0, overlay.width, overlay.height);
    frame.dataset.mask = "none";
  };
  const resetPhoto = (key) => {
    photo = null;
    points = [];
    frame.hidden = tools.hidden = hint.hidden = true;
    empty.hidden = false;
    text(pickLabel, "portrait.pick");
    if (key) say(key, { tone: "error" });
  };
  const failed = (err) => {
    if (err.status === 404) resetPhoto("portrait.expired"); // forgotten on the server: choose it again
    else if (err.status === 422) say("portrait.no_person", { detail: [err.problem, err.hint].filter(Boolean).join(" "), tone: "error" });
    else sayError(err);
  };

  /** Paint the greyscale mask PNG as a tint over the photo. */
  const paintMask = async (blob) => {
    const m = await blobToImage(blob);
    overlay.width = m.naturalWidth;
    overlay.height = m.naturalHeight;
    ink.drawImage(m, 0, 0);
    const pixels = ink.getImageData(0, 0, overlay.width, overlay.height);
    const d = pixels.data;
    let person = 0;
    for (let i = 0; i < d.length; i += 4) {
      const a = d[i] / 255; // grey: 1 = the person; the person is tinted, the rest shaded
      if (a > 0.5) person += 1;
      const alpha = a * TINT_ALPHA + (1 - a) * SHADE_ALPHA;
      for (let c = 0; c < 3; c += 1) d[i + c] = Math.round((a * TINT_ALPHA * TINT[c]) / Math.max(alpha, 1e-6));
      d[i + 3] = Math.round(alpha * 255);
    }
    ink.putImageData(pixels, 0, 0);
    frame.dataset.mask = "shown";
    frame.dataset.coverage = (person / (d.length / 4)).toFixed(3); // share of the photo taken as the person
  };

  /** Ask for the mask of the newest clicks; clicks made while one is on its way are sent together next. */
  const refreshMask = () => {
    if (!points.some((p) => p.foreground)) return clearMask();
    frame.dataset.mask = "busy"; // until the mask of these clicks is painted
    if (maskWanted) return;
    maskWanted = true;
    send(async () => {
      maskWanted = false;
      if (!photo || !points.some((p) => p.foreground)) return;
      try {
        const asked = points.map((p) => ({ ...p }));
        await paintMask(await withPhoto(() => api.portraitMask(asked)));
      } catch (err) {
        clearMask();
        failed(err);
      }
    });
  };

  const addPoint = (clientX, clientY, foreground) => {
    if (!photo) return;
    const box = frame.getBoundingClientRect();
    const x = Math.min(photo.width - 1, Math.max(0, Math.floor(((clientX - box.left) / box.width) * photo.width)));
    const y = Math.min(photo.height - 1, Math.max(0, Math.floor(((clientY - box.top) / box.height) * photo.height)));
    points.push({ x, y, foreground });
    paintDots();
    refreshMask();
  };

  // taps: mouse clicks and touches; a long press or a right-click marks "not the person"
  let press = null; // {x, y, timer, long} of the touch or click in progress
  frame.addEventListener("pointerdown", (e) => {
    if (e.button !== 0) return;
    const touch = e.pointerType !== "mouse";
    press = { x: e.clientX, y: e.clientY, long: false, timer: null };
    if (touch) press.timer = setTimeout(() => {
      press.long = true;
      addPoint(press.x, press.y, false);
    }, LONG_PRESS_MS);
  });
  frame.addEventListener("pointermove", (e) => {
    if (press && Math.hypot(e.clientX - press.x, e.clientY - press.y) > SLOP_PX) {
      clearTimeout(press.timer);
      press = null; // a scroll
    }
  });
  frame.addEventListener("pointerup", (e) => {
    if (!press) return;
    clearTimeout(press.timer);
    if (!press.long) addPoint(e.clientX, e.clientY, !background);
    press = null;
  });
  frame.addEventListener("pointercancel", () => {
    if (press) clearTimeout(press.timer);
    press = null;
  });
  frame.addEventListener("contextmenu", (e) => {
    e.preventDefault();
    if (press) {
      // a touch held down: some browsers say so before our own timer
      clearTimeout(press.timer);
      if (!press.long) addPoint(press.x, press.y, false);
      press = null;
      return;
    }
    addPoint(e.clientX, e.clientY, false); // a right-click
  });

  clear.addEventListener("click", () => {
    points = [];
    paintDots();
    clearMask();
  });

  file.addEventListener("change", () => {
    const chosen = file.files?.[0];
    file.value = ""; // the same file may be chosen again
    if (chosen) usePhoto(chosen);
  });

  /**
   * Run a request that needs the photo on the server. A server that does not hold it (404: the
   * studio runs as several processes and this one never got it, or it was forgotten after a
   * while) gets it once more from this page, and the request is repeated.
   */
  async function withPhoto(request) {
    try {
      return await request();
    } catch (err) {
      if (err.status !== 404 || !chosenFile) throw err;
      await api.uploadPhoto(chosenFile);
      return request();
    }
  }

  function usePhoto(chosen) {
    text(pickLabel, "portrait.uploading");
    pick.classList.add("busy");
    send(async () => {
      try {
        const kept = await api.uploadPhoto(chosen);
        chosenFile = chosen;
        if (photoUrl) URL.revokeObjectURL(photoUrl);
        photoUrl = URL.createObjectURL(chosen);
        photo = { width: kept.width, height: kept.height };
        img.src = photoUrl;
        frame.style.setProperty("--ar", `${kept.width} / ${kept.height}`);
        frame.dataset.width = kept.width;
        frame.dataset.height = kept.height;
        points = [];
        paintDots();
        clearMask();
        frame.hidden = tools.hidden = hint.hidden = false;
        empty.hidden = true;
        text(pickLabel, "portrait.pick_again");
      } catch (err) {
        text(pickLabel, photo ? "portrait.pick_again" : "portrait.pick");
        say(err.status === 0 || err.status >= 500 ? "err.generic" : "portrait.bad_photo", { detail: [err.problem, err.hint].filter(Boolean).join(" "), tone: "error" });
      } finally {
        pick.classList.remove("busy");
      }
    });
  }

  make.addEventListener("click", () => {
    if (!points.some((p) => p.foreground)) return say("portrait.need_click", { tone: "error" });
    const asked = { points: points.map((p) => ({ ...p })), style };
    make.disabled = true;
    text(makeLabel, "portrait.making");
    resultBox.dataset.state = "busy";
    send(async () => {
      try {
        const blob = await withPhoto(() => api.stylize(asked.points, asked.style));
        result = { blob, style: asked.style };
        if (picture.src) URL.revokeObjectURL(picture.src);
        picture.src = URL.createObjectURL(blob);
        picture.hidden = false;
        placeholder.hidden = true;
        resultBox.dataset.state = "picture";
        downloadBtn.disabled = saveBtn.disabled = false;
        // scroll once the picture has its size (before it loads, the box is still its minimum height), down to the
        // buttons under it, so the whole picture and Download / Save end up in view
        try { await picture.decode(); } catch (_) { /* shown as it is; still scroll */ }
        saveBtn.scrollIntoView({ block: "nearest", behavior: reducedMotion() ? "auto" : "smooth" });
      } catch (err) {
        resultBox.dataset.state = result ? "picture" : "empty";
        failed(err);
      } finally {
        text(makeLabel, "portrait.make");
        make.disabled = !points.some((p) => p.foreground);
      }
    });
  });

  downloadBtn.addEventListener("click", () => result && download(result.blob, `icanvas-character-${result.style}.png`));
  saveBtn.addEventListener("click", async () => {
    if (!result) return;
    saveBtn.disabled = true;
    try {
      await api.savePortrait(result.blob, result.style);
      say("portrait.saved");
      await album.load();
    } catch (err) {
      sayError(err);
    } finally {
      saveBtn.disabled = false;
    }
  });
  body.closest("dialog")?.addEventListener("close", () => {
    if (photoUrl) URL.revokeObjectURL(photoUrl);
    if (picture.src) URL.revokeObjectURL(picture.src);
  });
}
