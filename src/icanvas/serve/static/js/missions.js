// Stars, level and badges of the active child; the missions panel, the active mission, rewards.

import * as api from "./api.js";
import { openDialog } from "./dialogs.js";
import { aria, local, localText, onLanguage, reasonParams, text } from "./i18n.js";
import { findKind, state, subscribe, update } from "./state.js";
import { el, icon, reducedMotion } from "./util.js";

const STRIP_BADGES = 4; // newest badges shown in the top bar
const MAX_STAR_ICONS = 10; // stars drawn in the rewards dialog (the number says the rest)

/** Reload the active child's progress (stars, level, badges, missions); null for others. */
export async function refreshProgress() {
  if (state.me.role !== "child") return update({ progress: null });
  try {
    update({ progress: await api.progress() });
  } catch {
    update({ progress: null });
  }
}

export async function loadMissions() {
  try {
    update({ missions: await api.missions() });
  } catch {
    update({ missions: [] });
  }
}

function badgeIcon(badge) {
  return icon([badge.icon, `badge-${badge.id}`], { fallback: "badge", cls: "badge-icon" });
}

/** A mission's picture: its own icon, else the picture of the thing it asks for. */
function missionIcon(m) {
  const plain = String(m.icon || "").replace(/^mission-/, "").replace(/-timer$/, "");
  return icon([m.icon, plain, m.params?.kind], { fallback: "mission", cls: "mission-icon" });
}

/** Keep the top bar's stars, level bar and badges in step with the progress. */
export function setupProgressStrip(ui) {
  const render = () => {
    const p = state.progress;
    ui.strip.hidden = !p;
    if (!p) return;
    ui.stars.textContent = String(p.stars);
    aria(ui.starsBox, "progress.stars", { n: p.stars });
    ui.levelNo.textContent = String(p.level.number);
    const frac = p.level.needed > 0 ? Math.min(1, p.level.into / p.level.needed) : 1;
    ui.levelFill.style.width = `${Math.round(frac * 100)}%`;
    aria(ui.levelBox, "progress.level_aria", { n: p.level.number, left: Math.max(0, p.level.needed - p.level.into) });
    ui.badges.replaceChildren(
      ...p.badges.slice(-STRIP_BADGES).map((b) => {
        const name = local(b.title) || b.id;
        return el("span", { class: "strip-badge", role: "img", "aria-label": name, title: name, dataset: { testid: `strip-badge-${b.id}` } }, badgeIcon(b));
      }),
    );
  };
  subscribe((st, patch) => "progress" in patch && render());
  onLanguage(render);
  render();
}

/** Make `mission` the active one: choose its kind, start its clock at the first stroke. */
export function startMission(mission) {
  const patch = { mission };
  const kind = mission.params?.kind;
  if (kind && findKind(kind)) Object.assign(patch, { kind, kindByHand: true });
  update(patch);
}

function formatTime(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** The card of the active mission beside the canvas, with a clock for timed missions. */
export function setupMissionCard(card, board) {
  let ticker = null;
  let chosenAt = 0; // performance.now() when the mission was chosen: strokes before it do not count
  const tick = () => {
    const m = state.mission;
    const clock = card.querySelector("[data-testid=mission-timer]");
    if (!m || !clock) return;
    const limit = Number(m.params?.seconds) || 0;
    if (board.startedAt === null) return text(clock, "missions.timer_wait");
    const started = Math.max(board.startedAt, chosenAt);
    const left = limit - (performance.now() - started) / 1000;
    if (left <= 0) {
      text(clock, "missions.time_up");
      clock.classList.add("over");
    } else {
      text(clock, "missions.time_left", { time: formatTime(left) });
      clock.classList.remove("over");
    }
  };
  const render = () => {
    clearInterval(ticker);
    const m = state.mission;
    card.hidden = !m;
    if (!m) return card.replaceChildren();
    chosenAt = performance.now();
    const stop = aria(el("button", { type: "button", class: "icon-btn", dataset: { testid: "mission-stop" } }, icon("close")), "missions.stop");
    stop.addEventListener("click", () => update({ mission: null }));
    card.replaceChildren(
      missionIcon(m),
      el(
        "div",
        { class: "mission-text" },
        text(el("small"), "missions.active"),
        localText(el("strong", { dataset: { testid: "mission-title" } }), m.title),
        m.rule === "draw_kind_timed" ? el("span", { class: "mission-timer", dataset: { testid: "mission-timer" } }) : null,
      ),
      stop,
    );
    if (m.rule === "draw_kind_timed") {
      tick();
      ticker = setInterval(tick, 1000);
    }
  };
  subscribe((st, patch) => {
    if ("mission" in patch) render();
    if ("drawingNo" in patch) tick();
  });
  render();
}

function missionCard(m, { daily = false, done = false, close }) {
  const start = el("button", { type: "button", class: "btn primary", dataset: { testid: `mission-start-${m.id}` } }, text(el("span"), "missions.start"));
  start.addEventListener("click", () => {
    startMission(m);
    close();
  });
  return el(
    "li",
    { class: `mission ${daily ? "daily" : ""} ${done ? "done" : ""}`, dataset: { testid: `mission-${m.id}` } },
    missionIcon(m),
    el(
      "div",
      { class: "mission-text" },
      daily ? text(el("small", { class: "daily-tag" }), "missions.daily") : null,
      localText(el("strong"), m.title),
      el("span", { class: "mission-stars" }, icon("star", { cls: "star-icon" }), `${daily ? m.stars * 2 : m.stars}`),
      daily ? text(el("small"), "missions.double") : null,
    ),
    done ? el("span", { class: "done-tag" }, icon("check"), text(el("span"), "missions.done")) : start,
  );
}

/** The missions panel: today's mission first, then the others; badges underneath. */
export async function openMissions() {
  await Promise.all([refreshProgress(), state.missions.length ? null : loadMissions()]);
  openDialog({
    titleKey: "missions.title",
    iconName: "mission",
    testid: "missions-panel",
    build(body, close) {
      const p = state.progress;
      if (!p) body.append(text(el("p", { class: "note" }), "missions.guest"));
      const doneToday = new Set((p?.missions || []).filter((m) => m.done_today).map((m) => m.id));
      const list = el("ul", { class: "missions" });
      if (p?.daily) list.append(missionCard(p.daily, { daily: true, done: doneToday.has(p.daily.id), close }));
      const others = (p?.missions || state.missions).filter((m) => m.id !== p?.daily?.id);
      others.sort((a, b) => doneToday.has(a.id) - doneToday.has(b.id)); // open missions first
      for (const m of others) list.append(missionCard(m, { done: doneToday.has(m.id), close }));
      if (!list.children.length) list.append(text(el("li", { class: "note" }), "missions.none"));
      body.append(list);
      if (p) {
        body.append(text(el("h3"), "badges.title"));
        const badges = el("ul", { class: "badges-list", dataset: { testid: "badges-list" } });
        for (const b of p.badges) badges.append(el("li", { dataset: { testid: `badge-${b.id}` } }, badgeIcon(b), localText(el("span"), b.title || { ko: b.id, en: b.id })));
        if (!p.badges.length) badges.append(text(el("li", { class: "note" }), "badges.none"));
        body.append(badges);
      }
    },
  });
}

/** Show what saving earned; resolves "new" (start a new drawing) or anything else. */
export async function showRewards(result) {
  const r = result.rewards || { stars: 0, reasons: [], missions_done: [], badges: [], level_up: false };
  await refreshProgress();
  if (state.mission && r.missions_done.includes(state.mission.id)) update({ mission: null });
  const all = state.progress?.badges || [];
  const { done } = openDialog({
    titleKey: "rewards.title",
    iconName: "trophy",
    testid: "rewards",
    cls: "small rewards",
    build(body, close) {
      const stars = el("div", { class: `star-row ${reducedMotion() ? "" : "animate"}`, "aria-hidden": "true" });
      for (let i = 0; i < Math.min(r.stars, MAX_STAR_ICONS); i += 1) {
        const star = icon("star", { cls: "reward-star" });
        star.style.animationDelay = `${i * 120}ms`;
        stars.append(star);
      }
      body.append(text(el("p", { class: "note" }), "rewards.saved"));
      if (r.stars > 0) body.append(stars, text(el("p", { class: "big-stars", dataset: { testid: "rewards-stars", stars: r.stars } }), r.stars === 1 ? "rewards.star_one" : "rewards.stars", { n: r.stars }));
      const reasons = el("ul", { class: "reasons" });
      for (const [key, n] of r.reasons.map((x) => (Array.isArray(x) ? x : [x.key, x.stars]))) {
        const [k, params] = reasonParams(key, { kinds: state.studio.kinds, missions: state.missions });
        reasons.append(el("li", { dataset: { reason: key } }, text(el("span"), k, params), el("span", { class: "plus" }, `+${n}`, icon("star", { cls: "star-icon" }))));
      }
      body.append(reasons);
      for (const id of r.badges) {
        const b = all.find((x) => x.id === id) || { id };
        body.append(el("div", { class: "new-badge", dataset: { testid: `new-badge-${id}` } }, badgeIcon(b), el("div", {}, text(el("small"), "rewards.badge"), localText(el("strong"), b.title || { ko: id, en: id }))));
      }
      if (r.level_up) body.append(el("p", { class: "level-up", dataset: { testid: "level-up" } }, icon("star", { cls: "star-icon" }), text(el("span"), "rewards.level_up", { n: r.level })));
      const row = el("div", { class: "dialog-actions" });
      const again = el("button", { type: "button", class: "btn primary", dataset: { testid: "rewards-new" }, onclick: () => close("new") }, icon("pencil"), text(el("span"), "rewards.new_drawing"));
      const keep = el("button", { type: "button", class: "btn", dataset: { testid: "rewards-keep" }, onclick: () => close("keep") }, text(el("span"), "rewards.keep"));
      row.append(again, keep);
      body.append(row);
    },
  });
  return done;
}
