// "Who's drawing?": a child taps their avatar, then their 3 secret pictures.

import * as api from "./api.js";
import { confirmDialog, openDialog, say } from "./dialogs.js";
import { aria, t, text } from "./i18n.js";
import { state } from "./state.js";
import { el, icon } from "./util.js";
import { pickIcon } from "./icons.js";

const PIN_LENGTH = 3; // pictures in a PIN

/** An avatar picture (generic face when the id has no drawing). */
export function avatarIcon(id, cls = "avatar") {
  return icon(`avatar-${id}`, { fallback: "user", cls });
}

/** A PIN picture; ids without a drawing show their name on a coloured tile. */
export function pinFace(id) {
  const name = pickIcon([`pin-${id}`, id], null);
  return name ? icon(name, { cls: "pin-icon" }) : el("span", { class: "pin-word" }, String(id));
}

/** Name of a PIN picture for screen readers. */
export function pinName(id) {
  return t(`pin.${id}`, {}, String(id));
}

/** Open the profile switch. `hooks.onEntered(me)` runs after a right PIN; `hooks.openParent()` for grown-ups. */
export async function openWho(hooks) {
  if (state.me.role === "guest") {
    const go = await confirmDialog({
      titleKey: "who.title",
      textKey: "who.guest",
      iconName: "user",
      testid: "who-guest",
      buttons: [
        { key: "save.ask_grownup", value: true, cls: "primary", testid: "who-ask-grownup", icon: "grownup" },
        { key: "common.not_now", value: false, testid: "confirm-cancel" },
      ],
    });
    if (go) hooks.openParent();
    return;
  }
  let kids = [];
  try {
    kids = await api.profiles();
  } catch (err) {
    say("err.generic", { detail: err.problem, tone: "error" });
    return;
  }
  openDialog({
    titleKey: "who.title",
    iconName: "user",
    testid: "who-panel",
    build(body, close, title) {
      const showList = () => {
        text(title, "who.title");
        const list = el("div", { class: "avatar-grid" });
        for (const kid of kids) {
          list.append(
            el(
              "button",
              { type: "button", class: "avatar-btn", dataset: { testid: `profile-${kid.id}` }, onclick: () => showPin(kid) },
              avatarIcon(kid.avatar),
              el("span", { class: "nickname" }, kid.nickname),
            ),
          );
        }
        if (!kids.length) {
          body.replaceChildren(
            text(el("p", { class: "note" }), "who.none"),
            el("button", { type: "button", class: "btn primary", onclick: () => (close(), hooks.openParent()) }, icon("grownup"), text(el("span"), "top.grownups")),
          );
          return;
        }
        body.replaceChildren(list);
      };

      const showPin = (kid) => {
        text(title, "who.pin", { name: kid.nickname });
        let chosen = []; // PIN pictures tapped so far
        const slots = el("div", { class: "pin-slots", dataset: { testid: "pin-slots" } });
        const status = el("p", { class: "pin-status", role: "status", "aria-live": "polite" });
        const drawSlots = () => {
          slots.replaceChildren(...Array.from({ length: PIN_LENGTH }, (_, i) => el("span", { class: `pin-slot ${chosen[i] ? "filled" : ""}` }, chosen[i] ? pinFace(chosen[i]) : "")));
        };
        const pad = el("div", { class: "pin-pad" });
        const submit = async () => {
          pad.inert = true;
          try {
            const me = await api.enterChild(kid.id, chosen);
            close();
            await hooks.onEntered(me);
            say("who.hello", { params: { name: kid.nickname } });
          } catch (err) {
            chosen = [];
            drawSlots();
            text(status, err.status === 429 ? "err.too_many" : err.status === 403 ? "who.wrong" : "err.generic");
          } finally {
            pad.inert = false;
          }
        };
        for (const id of state.studio.pin_icons) {
          const btn = el("button", { type: "button", class: "pin-btn", dataset: { testid: `pin-${id}` } }, pinFace(id));
          btn.setAttribute("aria-label", pinName(id));
          btn.addEventListener("click", () => {
            if (chosen.length >= PIN_LENGTH) return;
            chosen.push(id);
            status.textContent = "";
            drawSlots();
            if (chosen.length === PIN_LENGTH) submit();
          });
          pad.append(btn);
        }
        const back = el("button", { type: "button", class: "btn", dataset: { testid: "pin-back" }, onclick: showList }, icon("undo"), text(el("span"), "who.back"));
        const erase = aria(el("button", { type: "button", class: "icon-btn", dataset: { testid: "pin-erase" } }, icon("eraser")), "who.erase_pin");
        erase.addEventListener("click", () => {
          chosen.pop();
          drawSlots();
        });
        drawSlots();
        body.replaceChildren(
          el("div", { class: "pin-head" }, avatarIcon(kid.avatar, "avatar small"), slots, erase),
          status,
          pad,
          el("div", { class: "dialog-actions" }, back),
        );
      };
      showList();
    },
  });
}
