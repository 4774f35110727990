// The grown-ups' corner: sign in or register, unlock from a child's session,
// make and delete child profiles (offering the zip export first), open every album,
// and the grown-ups' own photo -> character page.

import * as api from "./api.js";
import { confirmDialog, openDialog, say } from "./dialogs.js";
import { aria, text } from "./i18n.js";
import { state } from "./state.js";
import { el, icon } from "./util.js";
import { avatarIcon, pinFace, pinName } from "./profiles.js";

const PIN_LENGTH = 3; // pictures in a child's PIN
const NICKNAME_MAX = 20; // longest nickname, characters
const PASSWORD_MIN = 8; // shortest password, characters

function field(labelKey, input) {
  return el("label", { class: "field" }, text(el("span"), labelKey), input);
}

function errorLine() {
  return el("p", { class: "form-error", role: "alert", dataset: { testid: "form-error" } });
}

function showError(line, err, key = "err.generic") {
  text(line, err.status === 429 ? "err.too_many" : err.status === 0 ? "err.network" : key);
  if (err.problem && err.status) line.append(el("small", { class: "detail" }, ` ${err.problem} ${err.hint || ""}`));
}

/** Sign-in / register form for a guest. */
function signInForm(body, hooks, rerender) {
  let mode = "login";
  const email = el("input", { type: "email", autocomplete: "email", required: true, dataset: { testid: "parent-email" } });
  const password = el("input", { type: "password", autocomplete: "current-password", required: true, minlength: PASSWORD_MIN, dataset: { testid: "parent-password" } });
  const error = errorLine();
  const submitLabel = el("span");
  const tabs = el("div", { class: "tabs", role: "tablist" });
  const tab = (m, key) => {
    const b = el("button", { type: "button", role: "tab", class: "tab", dataset: { testid: `parent-tab-${m}` } }, text(el("span"), key));
    b.addEventListener("click", () => setMode(m));
    tabs.append(b);
    return b;
  };
  const loginTab = tab("login", "parent.login");
  const registerTab = tab("register", "parent.register");
  const setMode = (m) => {
    mode = m;
    loginTab.setAttribute("aria-selected", String(m === "login"));
    registerTab.setAttribute("aria-selected", String(m === "register"));
    password.autocomplete = m === "login" ? "current-password" : "new-password";
    text(submitLabel, m === "login" ? "parent.login" : "parent.register");
    error.textContent = "";
  };
  const form = el(
    "form",
    { class: "form", novalidate: true },
    field("parent.email", email),
    field("parent.password", password),
    text(el("small", { class: "note" }), "parent.password_hint"),
    error,
    el("button", { type: "submit", class: "btn primary", dataset: { testid: "parent-submit" } }, submitLabel),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (password.value.length < PASSWORD_MIN) return text(error, "parent.password_short"); // the rule itself is the note above
    const signingUp = mode === "register";
    try {
      // signing up never tells whether the e-mail had an account: log in with it either way
      if (signingUp) await api.register(email.value.trim(), password.value);
      const me = await api.login(email.value.trim(), password.value);
      await hooks.onRoleChange(me);
      rerender();
    } catch (err) {
      showError(error, err, err.status === 401 ? (signingUp ? "parent.register_failed" : "parent.bad_login") : "err.generic");
    }
  });
  setMode("login");
  body.replaceChildren(tabs, form);
  email.focus();
}

/** Password prompt when a child's session is active. */
function unlockForm(body, hooks, rerender) {
  const password = el("input", { type: "password", autocomplete: "current-password", dataset: { testid: "parent-unlock-password" } });
  const error = errorLine();
  const form = el(
    "form",
    { class: "form" },
    text(el("p", { class: "note" }), "parent.unlock_text"),
    field("parent.password", password),
    error,
    el("button", { type: "submit", class: "btn primary", dataset: { testid: "parent-unlock-submit" } }, icon("grownup"), text(el("span"), "parent.unlock")),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await hooks.onRoleChange(await api.unlockParent(password.value));
      rerender();
    } catch (err) {
      showError(error, err, err.status === 401 || err.status === 403 ? "parent.bad_login" : "err.generic");
    }
  });
  body.replaceChildren(form);
  password.focus();
}

/** A row of picture buttons where one (radio) or a sequence (PIN) is chosen. */
function avatarChoice(onPick) {
  const group = el("div", { class: "choice-grid", role: "radiogroup" });
  aria(group, "parent.avatar");
  state.studio.avatars.forEach((id, i) => {
    const b = el("button", { type: "button", role: "radio", "aria-checked": String(i === 0), class: "choice", dataset: { testid: `avatar-${id}` } }, avatarIcon(id));
    aria(b, "parent.avatar_item", { n: i + 1 });
    b.addEventListener("click", () => {
      for (const other of group.children) other.setAttribute("aria-checked", String(other === b));
      onPick(id);
    });
    group.append(b);
  });
  return group;
}

function newChildForm(hooks, rerender) {
  let avatar = state.studio.avatars[0];
  let pin = [];
  const nickname = el("input", { type: "text", maxlength: NICKNAME_MAX, autocomplete: "off", dataset: { testid: "child-nickname" } });
  const slots = el("div", { class: "pin-slots", dataset: { testid: "new-pin-slots" } });
  let pinMissing = false; // "choose 3 secret pictures" is showing: it goes once they are chosen
  const drawSlots = () => {
    slots.replaceChildren(...Array.from({ length: PIN_LENGTH }, (_, i) => el("span", { class: `pin-slot ${pin[i] ? "filled" : ""}` }, pin[i] ? pinFace(pin[i]) : "")));
    if (pinMissing && pin.length === PIN_LENGTH) {
      pinMissing = false;
      error.textContent = "";
    }
  };
  const pad = el("div", { class: "pin-pad small" });
  for (const id of state.studio.pin_icons) {
    const b = el("button", { type: "button", class: "pin-btn", "aria-label": pinName(id), dataset: { testid: `new-pin-${id}` } }, pinFace(id));
    b.addEventListener("click", () => {
      if (pin.length < PIN_LENGTH) pin.push(id);
      drawSlots();
    });
    pad.append(b);
  }
  const reset = el("button", { type: "button", class: "btn small", onclick: () => ((pin = []), drawSlots()) }, text(el("span"), "parent.pin_reset"));
  const error = errorLine();
  const form = el(
    "form",
    { class: "form child-form", dataset: { testid: "new-child-form" } },
    text(el("h3"), "parent.add_child"),
    field("parent.nickname", nickname),
    text(el("span", { class: "field-label" }), "parent.avatar"),
    avatarChoice((id) => (avatar = id)),
    text(el("span", { class: "field-label" }), "parent.pin"),
    el("div", { class: "pin-head" }, slots, reset),
    pad,
    error,
    el("button", { type: "submit", class: "btn primary", dataset: { testid: "child-create" } }, icon("check"), text(el("span"), "parent.create")),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const name = nickname.value.trim();
    if (!name || name.length > NICKNAME_MAX) return text(error, "parent.nickname_needed");
    if (pin.length !== PIN_LENGTH) {
      pinMissing = true;
      return text(error, "parent.pin_needed");
    }
    try {
      await api.createChild(name, avatar, pin);
      await rerender();
      say("parent.created", { params: { name } });
    } catch (err) {
      showError(error, err);
    }
  });
  drawSlots();
  return form;
}

async function deleteChild(kid, rerender) {
  const exportLink = el(
    "a",
    { class: "btn", href: api.exportUrl(kid.id), download: `icanvas-${kid.nickname}.zip`, dataset: { testid: "export-zip" } },
    icon("download"),
    text(el("span"), "parent.export"),
  );
  const ok = await confirmDialog({
    titleKey: "parent.delete_title",
    titleParams: { name: kid.nickname },
    textKey: "parent.delete_text",
    iconName: "trash",
    testid: "confirm-delete-child",
    extra: el("p", { class: "dialog-extra" }, exportLink),
    buttons: [
      { key: "parent.delete_ok", value: true, cls: "danger", testid: "confirm-ok", icon: "trash" },
      { key: "common.cancel", value: false, testid: "confirm-cancel" },
    ],
  });
  if (!ok) return;
  let failure = null;
  try {
    await api.deleteChild(kid.id);
  } catch (err) {
    failure = err;
  }
  await rerender();
  if (failure) say("err.generic", { detail: failure.problem, tone: "error" });
}

async function parentHome(body, hooks, rerender, close) {
  let kids = [];
  try {
    kids = await api.children();
  } catch (err) {
    body.replaceChildren(text(el("p", { class: "form-error" }), "err.generic"));
    return;
  }
  const logout = el("button", { type: "button", class: "btn small", dataset: { testid: "parent-logout" } }, icon("logout"), text(el("span"), "parent.logout"));
  logout.addEventListener("click", async () => {
    await api.logout().catch(() => null);
    await hooks.onRoleChange(null);
    rerender();
  });
  const actions = el(
    "div",
    { class: "dialog-actions wrap" },
    el("button", { type: "button", class: "btn primary", dataset: { testid: "let-child-draw" }, onclick: () => (close(), hooks.openWho()) }, icon("user"), text(el("span"), "parent.let_child_draw")),
    el("button", { type: "button", class: "btn", dataset: { testid: "parent-albums" }, onclick: () => (close(), hooks.openAlbum()) }, icon("album"), text(el("span"), "parent.album")),
    el("button", { type: "button", class: "btn", dataset: { testid: "parent-portrait" }, onclick: () => (close(), hooks.openPortrait()) }, icon("photo"), text(el("span"), "parent.portrait")),
  );
  const list = el("ul", { class: "children", dataset: { testid: "children-list" } });
  for (const kid of kids) {
    const del = el("button", { type: "button", class: "btn small danger-outline", dataset: { testid: `child-delete-${kid.id}` } }, icon("trash"), text(el("span"), "parent.delete"));
    del.addEventListener("click", () => deleteChild(kid, rerender));
    list.append(
      el(
        "li",
        { class: "child-row", dataset: { testid: `child-row-${kid.id}` } },
        avatarIcon(kid.avatar, "avatar small"),
        el("div", { class: "child-info" }, el("strong", {}, kid.nickname), text(el("small"), "parent.stars_level", { stars: kid.stars ?? 0, level: kid.level ?? 1 })),
        el("a", { class: "btn small", href: api.exportUrl(kid.id), download: `icanvas-${kid.nickname}.zip`, dataset: { testid: `export-${kid.id}` } }, icon("download"), text(el("span"), "parent.export")),
        del,
      ),
    );
  }
  if (!kids.length) list.append(text(el("li", { class: "note" }), "parent.no_children"));
  body.closest("dialog")?.scrollTo(0, 0);
  body.replaceChildren(
    el("div", { class: "signed-in" }, text(el("span"), "parent.signed_in_as", { email: state.me.parent?.email || "" }), logout),
    actions,
    text(el("h3"), "parent.children"),
    list,
    newChildForm(hooks, rerender),
  );
}

/** Open the grown-ups' corner. hooks: {onRoleChange(me|null), openWho(), openAlbum(), openPortrait()}. */
export function openParent(hooks) {
  openDialog({
    titleKey: "parent.title",
    iconName: "grownup",
    testid: "parent-panel",
    cls: "wide",
    build(body, close) {
      const rerender = () => {
        const role = state.me.role;
        if (role === "guest") signInForm(body, hooks, rerender);
        else if (role === "child") unlockForm(body, hooks, rerender);
        else return parentHome(body, hooks, rerender, close);
        return Promise.resolve();
      };
      rerender();
    },
  });
}
