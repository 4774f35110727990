// Friendly dialogs (never window.confirm) and the message line for errors and news.

import { aria, t, text } from "./i18n.js";
import { el, icon } from "./util.js";

/**
 * Open a modal sheet. `build(body, close)` fills it; resolves `done` with the value passed to close().
 * @returns {{dialog: HTMLDialogElement, body: HTMLElement, close: Function, done: Promise}}
 */
export function openDialog({ titleKey, titleParams, testid, cls = "", build, iconName }) {
  const body = el("div", { class: "dialog-body" });
  const closeBtn = aria(el("button", { type: "button", class: "icon-btn close-btn", dataset: { testid: "dialog-close" } }, icon("close")), "common.close");
  const title = el("h2", { class: "dialog-title", id: `dlg-${Math.random().toString(36).slice(2)}` });
  if (titleKey) text(title, titleKey, titleParams);
  const dialog = el(
    "dialog",
    { class: `sheet ${cls}`, dataset: { testid: testid || "dialog" }, "aria-labelledby": title.id },
    el("header", { class: "dialog-head" }, iconName ? icon(iconName) : null, title, closeBtn),
    body,
  );
  let resolveDone;
  const done = new Promise((resolve) => (resolveDone = resolve));
  let result; // value handed to close()
  const close = (value) => {
    result = value;
    if (dialog.open) dialog.close();
  };
  dialog.addEventListener("close", () => {
    dialog.remove();
    resolveDone(result);
  });
  dialog.addEventListener("cancel", () => (result = undefined));
  closeBtn.addEventListener("click", () => close(undefined));
  document.body.append(dialog);
  build?.(body, close, title);
  dialog.showModal();
  return { dialog, body, close, done, title };
}

/**
 * Ask a yes/no question. `buttons` = [{key, value, cls, testid}] (first is the main one);
 * resolves with the chosen value, or undefined when closed.
 */
export function confirmDialog({ titleKey, titleParams, textKey, textParams, iconName, buttons, extra, testid = "confirm" }) {
  const { done } = openDialog({
    titleKey,
    titleParams,
    iconName,
    testid,
    cls: "small",
    build(body, close) {
      if (textKey) body.append(text(el("p", { class: "dialog-text" }), textKey, textParams));
      if (extra) body.append(extra);
      const row = el("div", { class: "dialog-actions" });
      for (const b of buttons) {
        const btn = el("button", { type: "button", class: `btn ${b.cls || ""}`, dataset: { testid: b.testid } });
        if (b.icon) btn.append(icon(b.icon));
        btn.append(text(el("span"), b.key, b.params));
        btn.addEventListener("click", () => close(b.value));
        row.append(btn);
      }
      body.append(row);
    },
  });
  return done;
}

const MESSAGE_SECONDS = 7; // how long a message stays before it fades away
let messageTimer = null;

/**
 * Show a message in the polite live region under the top bar.
 * `key` is an i18n key; `detail` a second, smaller line (e.g. the server's problem and hint).
 */
export function say(key, { params, detail = "", tone = "info" } = {}) {
  const box = messageBox();
  if (!box) return;
  box.replaceChildren(
    icon(tone === "error" ? "oops" : "sparkle"),
    el("div", {}, text(el("strong"), key, params), detail ? el("small", { class: "detail" }, detail) : null),
    aria(el("button", { type: "button", class: "icon-btn", onclick: () => hideMessage() }, icon("close")), "common.close"),
  );
  box.dataset.tone = tone;
  box.hidden = false;
  clearTimeout(messageTimer);
  messageTimer = setTimeout(hideMessage, MESSAGE_SECONDS * 1000);
}

/** The message line of the topmost open dialog (made on demand), else the page's own. */
function messageBox() {
  const dialogs = document.querySelectorAll("dialog[open]");
  const top = dialogs[dialogs.length - 1];
  if (!top) return document.querySelector("[data-testid=message]");
  let box = top.querySelector(".dialog-message");
  if (!box) {
    box = el("div", { class: "message dialog-message", role: "status", "aria-live": "polite", dataset: { testid: "dialog-message" } });
    top.querySelector(".dialog-body").prepend(box);
  }
  return box;
}

export function hideMessage() {
  for (const box of document.querySelectorAll(".message")) box.hidden = true;
}

/** Tell the person about a failed API call in friendly words; the server's words go underneath. */
export function sayError(err, blankKey = "err.generic") {
  const status = err?.status;
  let key = "err.generic";
  if (status === 0) key = "err.network";
  else if (status === 503) key = "err.busy";
  else if (status === 429) key = "err.too_many";
  else if (status === 422) key = blankKey;
  const detail = status ? [err.problem, err.hint].filter(Boolean).join(" ") : "";
  say(key, { detail, tone: "error" });
  return t(key);
}
