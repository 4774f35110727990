// The album: saved creations grouped by kind, favourites with a heart, a favourites filter.
// A child sees their own; a grown-up sees all their children's and may delete items.

import * as api from "./api.js";
import { confirmDialog, openDialog, say } from "./dialogs.js";
import { aria, kindName, localText, text } from "./i18n.js";
import { findKind, state } from "./state.js";
import { el, icon } from "./util.js";
import { avatarIcon } from "./profiles.js";

function heartButton(item) {
  const btn = el("button", { type: "button", class: "icon-btn heart", dataset: { testid: `fav-${item.id}` } }, icon("heart"));
  const paint = () => {
    btn.setAttribute("aria-pressed", String(Boolean(item.favourite)));
    aria(btn, item.favourite ? "album.fav_off" : "album.fav_on");
  };
  btn.addEventListener("click", async () => {
    try {
      const updated = await api.setFavourite(item.id, !item.favourite);
      item.favourite = updated?.favourite ?? !item.favourite;
      paint();
    } catch (err) {
      say("err.generic", { detail: err.problem, tone: "error" });
    }
  });
  paint();
  return btn;
}

function openLarge(item) {
  openDialog({
    titleKey: "album.title",
    iconName: findKind(item.kind)?.icon || item.kind || "album",
    testid: "album-item",
    cls: "wide",
    build(body) {
      body.append(
        el(
          "div",
          { class: "pair" },
          el("figure", {}, el("img", { src: item.drawing_url, alt: "" }), text(el("figcaption"), "album.drawing")),
          item.picture_url ? el("figure", {}, el("img", { src: item.picture_url, alt: "" }), text(el("figcaption"), "result.label")) : null,
        ),
      );
    },
  });
}

function card(item, kids, onDelete) {
  const kid = kids.find((k) => k.id === item.child_id);
  const main = el(
    "button",
    { type: "button", class: "album-thumb", onclick: () => openLarge(item) },
    el("img", { src: item.picture_url || item.drawing_url, alt: "", loading: "lazy" }),
    item.picture_url ? el("img", { class: "inset", src: item.drawing_url, alt: "", loading: "lazy" }) : null,
  );
  aria(main, "result.alt", { kind: kindName(findKind(item.kind), item.kind || item.recognized || "") });
  const tools = el("div", { class: "album-tools" }, heartButton(item));
  if (kid) tools.prepend(el("span", { class: "album-owner", title: kid.nickname }, avatarIcon(kid.avatar, "avatar tiny"), el("span", {}, kid.nickname)));
  if (state.me.role === "parent") {
    const del = aria(el("button", { type: "button", class: "icon-btn", dataset: { testid: `delete-${item.id}` } }, icon("trash")), "album.delete");
    del.addEventListener("click", () => onDelete(item));
    tools.append(del);
  }
  return el("li", { class: "album-card", dataset: { testid: `creation-${item.id}`, kind: item.kind || "" } }, main, tools);
}

function groupByKind(items) {
  const groups = new Map(); // kind -> items, in order of first appearance (newest first)
  for (const item of items) {
    const key = item.kind || "";
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(item);
  }
  return groups;
}

/** Open the album. hooks: {openWho(), openParent()} for people who must choose a profile first. */
export async function openAlbum(hooks) {
  const role = state.me.role;
  if (role === "guest") {
    const go = await confirmDialog({
      titleKey: "album.title",
      textKey: "album.need_profile",
      iconName: "album",
      testid: "album-needs-profile",
      buttons: [
        { key: "save.ask_grownup", value: true, cls: "primary", icon: "grownup" },
        { key: "common.not_now", value: false, testid: "confirm-cancel" },
      ],
    });
    if (go) hooks.openParent();
    return;
  }
  const kids = role === "parent" ? await api.children().catch(() => []) : [];
  let onlyFavourites = false;
  let childId = null; // a grown-up's filter: one child, or all
  openDialog({
    titleKey: "album.title",
    iconName: "album",
    testid: "album-panel",
    cls: "wide",
    build(body) {
      const filters = el("div", { class: "filters", role: "group" });
      const grid = el("div", { class: "album-groups", dataset: { testid: "album-groups" } });
      const chip = (key, pressed, onclick, testid, extra) => {
        return el("button", { type: "button", class: "chip", "aria-pressed": String(pressed), dataset: { testid }, onclick }, extra, key ? text(el("span"), key) : null);
      };
      const renderFilters = () => {
        filters.replaceChildren(
          chip("album.all", !onlyFavourites, () => ((onlyFavourites = false), load()), "album-all"),
          chip("album.favourites", onlyFavourites, () => ((onlyFavourites = true), load()), "album-favourites", icon("heart")),
        );
        if (kids.length > 1) {
          for (const kid of kids) {
            const b = chip(null, childId === kid.id, () => ((childId = childId === kid.id ? null : kid.id), load()), `album-child-${kid.id}`, avatarIcon(kid.avatar, "avatar tiny"));
            b.append(el("span", {}, kid.nickname));
            filters.append(b);
          }
        }
      };
      const remove = async (item) => {
        const ok = await confirmDialog({
          titleKey: "album.delete_title",
          textKey: "album.delete_text",
          iconName: "trash",
          testid: "confirm-delete-creation",
          buttons: [
            { key: "parent.delete_ok", value: true, cls: "danger", testid: "confirm-ok", icon: "trash" },
            { key: "common.cancel", value: false, testid: "confirm-cancel" },
          ],
        });
        if (!ok) return;
        try {
          await api.deleteCreation(item.id);
        } catch (err) {
          say("err.generic", { detail: err.problem, tone: "error" });
        }
        load();
      };
      const load = async () => {
        renderFilters();
        let items = [];
        try {
          items = await api.creations({ favourite: onlyFavourites ? "true" : null, child_id: childId });
        } catch (err) {
          say("err.generic", { detail: err.problem, tone: "error" });
        }
        grid.replaceChildren();
        if (!items.length) grid.append(text(el("p", { class: "note", dataset: { testid: "album-empty" } }), "album.empty"));
        for (const [kind, group] of groupByKind(items)) {
          const info = findKind(kind);
          const heading = el("h3", { class: "album-kind" }, icon(info?.icon || kind, { cls: "kind-icon" }), kind ? localText(el("span"), kindName(info, kind)) : text(el("span"), "album.other"));
          grid.append(el("section", { class: "album-group", dataset: { testid: `album-group-${kind || "other"}` } }, heading, el("ul", { class: "album-grid" }, group.map((item) => card(item, kids, remove)))));
        }
      };
      body.append(filters, grid);
      load();
    },
  });
}
