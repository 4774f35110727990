// Start the page: load the studio's settings and the visitor, build the tools, connect the panels.

import * as api from "./api.js";
import { openAlbum } from "./album.js";
import { DrawingBoard } from "./canvas.js";
import { say } from "./dialogs.js";
import { applyI18n, aria, getLanguage, onLanguage, savedLanguage, setLanguage, text } from "./i18n.js";
import { loadMissions, openMissions, refreshProgress, setupMissionCard, setupProgressStrip, showRewards } from "./missions.js";
import { setupPaperPhoto } from "./paper.js";
import { openParent } from "./parent.js";
import { openPortrait } from "./portrait.js";
import { avatarIcon, openWho } from "./profiles.js";
import { state, subscribe, update } from "./state.js";
import { setupStudio } from "./studio.js";
import { setupSurprise } from "./surprise.js";
import { buildKindPicker, buildTools } from "./tools.js";
import { el, icon } from "./util.js";

const $ = (testid) => document.querySelector(`[data-testid="${testid}"]`);
const GUEST = { role: "guest", parent: null, child: null };

const hooks = {
  /** After sign-in, sign-out, unlock or a child's PIN: reload who is here and their progress. */
  async onRoleChange(me) {
    let who = me;
    if (!who) who = await api.me().catch(() => GUEST);
    update({ me: who });
    await refreshProgress();
  },
  onEntered: (me) => hooks.onRoleChange(me),
  openWho: () => openWho(hooks),
  openParent: () => openParent(hooks),
  openAlbum: () => openAlbum(hooks),
  openPortrait: () => openPortrait(),
  showRewards,
};

function setupLanguageToggle() {
  const buttons = document.querySelectorAll("[data-lang]");
  const paint = () => {
    for (const b of buttons) b.setAttribute("aria-pressed", String(b.dataset.lang === getLanguage()));
  };
  for (const b of buttons) b.addEventListener("click", () => setLanguage(b.dataset.lang));
  onLanguage(paint);
  paint();
}

function setupWhoButton() {
  const btn = $("who-button");
  const render = () => {
    const child = state.me.role === "child" ? state.me.child : null;
    const label = el("span", { class: "top-label" });
    if (child) label.textContent = child.nickname;
    else text(label, "top.who");
    btn.replaceChildren(child ? avatarIcon(child.avatar, "avatar tiny") : icon("user"), label);
    btn.dataset.role = state.me.role;
  };
  subscribe((st, patch) => "me" in patch && render());
  render();
}

function setupHeader() {
  $("missions-button").addEventListener("click", openMissions);
  $("album-button").addEventListener("click", hooks.openAlbum);
  $("who-button").addEventListener("click", hooks.openWho);
  $("grownups-button").addEventListener("click", hooks.openParent);
  setupLanguageToggle();
  setupWhoButton();
  setupProgressStrip({
    strip: $("progress"),
    starsBox: $("stars"),
    stars: $("stars-count"),
    levelBox: $("level"),
    levelNo: $("level-number"),
    levelFill: document.querySelector(".level-fill"),
    badges: $("strip-badges"),
  });
}

async function boot() {
  setLanguage(savedLanguage());
  let studio;
  try {
    studio = await api.studio();
  } catch (err) {
    say("err.network", { detail: err.problem, tone: "error" });
    return;
  }
  update({ studio, kind: studio.kinds[0]?.kind ?? null });
  setLanguage(savedLanguage(studio.default_language));
  update({ me: await api.me().catch(() => GUEST) });

  const canvas = $("canvas");
  const board = new DrawingBoard(canvas, studio.canvas_size);
  buildTools($("tools"), board);
  buildKindPicker($("kind-picker"));
  const studioActions = setupStudio(
    board,
    {
      kindPicker: $("kind-picker"),
      generate: $("generate"),
      generateLabel: $("generate").querySelector("span"),
      frame: $("result"),
      picture: $("result-image"),
      placeholder: $("result-empty"),
      download: $("download"),
      save: $("save"),
      live: $("live-toggle"),
      guess: $("guess"),
      undo: $("undo"),
      redo: $("redo"),
      clear: $("clear"),
    },
    hooks,
  );
  if (!studio.kinds.length) {
    $("generate").disabled = true; // the server has no picture models: drawing and saving still work
    text($("result-empty").querySelector("p"), "result.no_models");
  }
  if (studio.surprise) setupSurprise({ tools: $("tools"), paper: canvas.parentElement, layer: $("trace-layer"), kinds: studio.surprise_kinds });
  setupPaperPhoto({ tools: $("tools"), actions: $("generate").parentElement, photoSide: studio.photo_side, usePaper: studioActions.usePaper });
  setupHeader();
  setupMissionCard($("mission-active"), board);
  aria(canvas, "canvas.label");
  applyI18n();
  await Promise.all([loadMissions(), refreshProgress()]);
  document.body.dataset.ready = "true";
}

boot();
