// The tool box (pencil sizes, eraser, crayons) and the picker of what to draw.

import { aria, kindName, localText } from "./i18n.js";
import { state, subscribe, update } from "./state.js";
import { el, icon } from "./util.js";

const PENS = ["thin", "medium", "thick"]; // pencil sizes, thinnest first
const DOT_PX = { thin: 6, medium: 12, thick: 20 }; // size of the dot drawn on each pencil button, CSS px

/** Fill the tool box and connect it to the board; the medium pencil starts selected. */
export function buildTools(box, board) {
  const s = state.studio;
  const buttons = [];
  const select = (btn, tool) => {
    for (const b of buttons) b.setAttribute("aria-pressed", String(b === btn));
    board.setTool(tool);
  };
  const add = (group, btn, tool) => {
    btn.type = "button";
    btn.setAttribute("aria-pressed", "false");
    btn.addEventListener("click", () => select(btn, tool));
    buttons.push(btn);
    group.append(btn);
    return btn;
  };

  const pens = el("div", { class: "tool-group pens", role: "group" });
  aria(pens, "tools.title");
  for (const pen of PENS) {
    const dot = el("span", { class: "pen-dot", style: `width:${DOT_PX[pen]}px;height:${DOT_PX[pen]}px` });
    const btn = aria(el("button", { class: "tool-btn", dataset: { testid: `pen-${pen}` } }, icon("pencil"), dot), `tools.${pen}`);
    add(pens, btn, { tool: "pen", color: "#000000", width: s.pen_widths[pen] });
  }
  const eraser = aria(el("button", { class: "tool-btn", dataset: { testid: "eraser" } }, icon("eraser")), "tools.eraser");
  add(pens, eraser, { tool: "eraser", width: s.eraser_width });

  const crayons = el("div", { class: "tool-group crayons", role: "group" });
  aria(crayons, "tools.crayons");
  for (const [name, colour] of Object.entries(s.crayons)) {
    const swatch = el("span", { class: "swatch", style: `--crayon:${colour}` });
    const btn = aria(el("button", { class: "tool-btn crayon", dataset: { testid: `crayon-${name}` } }, swatch), `crayon.${name}`);
    add(crayons, btn, { tool: "crayon", color: colour, width: s.crayon_width });
  }
  box.replaceChildren(pens, crayons);
  buttons[1].click(); // medium pencil
}

/** Fill the picker of kinds; a tap selects the kind "by hand" for this drawing. */
export function buildKindPicker(group) {
  const render = () => {
    group.replaceChildren();
    for (const info of state.studio.kinds) {
      const label = localText(el("span", { class: "kind-label" }), kindName(info, info.kind));
      const btn = el(
        "button",
        {
          type: "button",
          role: "radio",
          class: "kind-btn",
          "aria-checked": String(state.kind === info.kind),
          dataset: { testid: `kind-${info.kind}`, kind: info.kind },
          onclick: () => update({ kind: info.kind, kindByHand: true }),
        },
        icon(info.icon || info.kind, { cls: "kind-icon" }),
        label,
      );
      group.append(btn);
    }
  };
  render();
  subscribe((st, patch) => {
    if (!("kind" in patch)) return;
    for (const btn of group.querySelectorAll(".kind-btn")) btn.setAttribute("aria-checked", String(btn.dataset.kind === st.kind));
  });
  group.addEventListener("keydown", (e) => {
    // arrow keys move between kinds, as in any radio group
    const btns = [...group.querySelectorAll(".kind-btn")];
    const at = btns.indexOf(document.activeElement);
    if (at < 0 || !["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown"].includes(e.key)) return;
    const step = e.key === "ArrowLeft" || e.key === "ArrowUp" ? -1 : 1;
    const next = btns[(at + step + btns.length) % btns.length];
    next.focus();
    next.click();
    e.preventDefault();
  });
}
