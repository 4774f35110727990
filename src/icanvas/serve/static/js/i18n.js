// Puts the words of strings.js on the page. Elements carry data-i18n / data-i18n-aria keys
// (with JSON data-i18n-args), or data-l10n for text the server sends as {ko, en};
// setLanguage() re-translates the whole page.

import { en, ko } from "./strings.js";

export const DICTIONARIES = { ko, en };
const STORAGE_KEY = "icanvas.language"; // localStorage key of the chosen language
let language = "ko";
const listeners = new Set();

export function getLanguage() {
  return language;
}

/** Text for `key` in the current language with {name} placeholders filled from `params`. */
export function t(key, params = {}, fallback = key) {
  const text = DICTIONARIES[language][key] ?? ko[key] ?? fallback;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in params ? resolve(params[name]) : `{${name}}`));
}

/** A value for a placeholder: a string, {t: key, fallback}, or a {ko, en} object. */
function resolve(value) {
  if (value && typeof value === "object") {
    if ("t" in value) return t(value.t, {}, value.fallback ?? value.t);
    return local(value);
  }
  return String(value);
}

/** Pick the current language from a {ko, en} object sent by the server. */
export function local(texts) {
  if (!texts || typeof texts !== "object") return texts ? String(texts) : "";
  return texts[language] ?? texts.ko ?? texts.en ?? Object.values(texts)[0] ?? "";
}

/** Placeholder value naming a recognizer label ("a cat" / "고양이"). */
export function thing(label) {
  return { t: `thing.${label}`, fallback: label };
}

/** {ko, en} names of a kind: its server label, else the dictionary, else its id. */
export function kindName(kindInfo, kindId) {
  if (kindInfo?.label) return kindInfo.label;
  const id = kindId || "";
  return { ko: ko[`kind.${id}`] ?? id, en: en[`kind.${id}`] ?? id };
}

/** Give `node` the text of `key` now and after every language switch. */
export function text(node, key, params) {
  node.dataset.i18n = key;
  if (params) node.dataset.i18nArgs = JSON.stringify(params);
  else delete node.dataset.i18nArgs;
  node.textContent = t(key, params);
  return node;
}

/** Same as text() for the aria-label (and tooltip) of an icon button. */
export function aria(node, key, params) {
  node.dataset.i18nAria = key;
  if (params) node.dataset.i18nAriaArgs = JSON.stringify(params);
  node.setAttribute("aria-label", t(key, params));
  if (node.tagName === "BUTTON") node.title = t(key, params);
  return node;
}

/** Text sent by the server as {ko, en}, kept in step with the language. */
export function localText(node, texts) {
  node.dataset.l10n = JSON.stringify(texts);
  node.textContent = local(texts);
  return node;
}

function args(raw) {
  try {
    return raw ? JSON.parse(raw) : {};
  } catch {
    return {};
  }
}

/** Translate every marked element under `root`. */
export function applyI18n(root = document) {
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n, args(node.dataset.i18nArgs));
  for (const node of root.querySelectorAll("[data-i18n-aria]")) {
    const label = t(node.dataset.i18nAria, args(node.dataset.i18nAriaArgs));
    node.setAttribute("aria-label", label);
    if (node.tagName === "BUTTON") node.title = label;
  }
  for (const node of root.querySelectorAll("[data-i18n-alt]")) node.alt = t(node.dataset.i18nAlt, args(node.dataset.i18nAltArgs));
  for (const node of root.querySelectorAll("[data-i18n-placeholder]")) node.placeholder = t(node.dataset.i18nPlaceholder);
  for (const node of root.querySelectorAll("[data-l10n]")) node.textContent = local(args(node.dataset.l10n));
}

/** Switch the page's language, remember it and re-translate everything. */
export function setLanguage(lang) {
  if (!(lang in DICTIONARIES)) return;
  language = lang;
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // private mode: the choice lasts for this visit only
  }
  document.documentElement.lang = lang;
  document.title = t("app.title");
  applyI18n();
  for (const fn of listeners) fn(lang);
}

/** The remembered language, else `fallback` (the server's default). */
export function savedLanguage(fallback = "ko") {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved in DICTIONARIES) return saved;
  } catch {
    // storage blocked
  }
  return fallback in DICTIONARIES ? fallback : "ko";
}

/** Call `fn(lang)` after every switch (for text that is drawn, not marked). */
export function onLanguage(fn) {
  listeners.add(fn);
}

/** Words for a reward reason key from the game module ("creation", "mission:<id>", ...). */
export function reasonParams(key, { kinds = [], missions = [] } = {}) {
  const [head, ...rest] = String(key).split(":");
  const arg = rest.join(":");
  if (head === "creation") return ["reason.creation", {}];
  if (head === "first_kind") return ["reason.first_kind", { kind: kindName(kinds.find((k) => k.kind === arg), arg) }];
  if (head === "mission") return ["reason.mission", { title: missions.find((m) => m.id === arg)?.title || arg }];
  if (head === "daily_bonus") return ["reason.daily_bonus", {}];
  if (head === "streak") return ["reason.streak", { n: arg }];
  return ["reason.other", {}];
}
