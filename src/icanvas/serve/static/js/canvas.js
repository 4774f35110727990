// The drawing board: a list of strokes rendered onto a square canvas.
// Undo/redo move strokes between two lists and re-render; no bitmaps are stored per step.

const MIN_STEP = 0.75; // ignore pointer moves shorter than this, canvas px
const PRESSURE_MIN = 0.6; // width factor at zero pressure
const PRESSURE_SPAN = 0.8; // added width factor at full pressure (0.6 .. 1.4)
const PAPER = "#ffffff";
const PENCIL = "#000000";

/** Width factor for a pointer event: pressure only counts for pens that report it. */
function pressureFactor(event) {
  if (event.pointerType !== "pen" || !(event.pressure > 0)) return 1;
  return PRESSURE_MIN + PRESSURE_SPAN * Math.min(1, event.pressure);
}

function mid(a, b) {
  return [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
}

/**
 * Draw piece `i` of a stroke (1 <= i < n), or the final piece (i == n) ending at the last point.
 * Pieces are smooth quadratic curves through the midpoints; drawing pieces 1..n in order
 * gives the same picture whether it happens live or in a full re-render.
 */
function drawPiece(ctx, stroke, i) {
  const pts = stroke.points; // [[x, y, width], ...] in canvas px
  const n = pts.length;
  ctx.strokeStyle = stroke.color;
  if (n === 1) {
    if (i !== 1) return;
    ctx.fillStyle = stroke.color;
    ctx.beginPath();
    ctx.arc(pts[0][0], pts[0][1], pts[0][2] / 2, 0, Math.PI * 2);
    ctx.fill();
    return;
  }
  ctx.beginPath();
  if (i === n) {
    const from = n > 2 ? mid(pts[n - 2], pts[n - 1]) : pts[0];
    ctx.lineWidth = pts[n - 1][2];
    ctx.moveTo(from[0], from[1]);
    ctx.lineTo(pts[n - 1][0], pts[n - 1][1]);
  } else {
    const ctrl = pts[i - 1];
    const from = i === 1 ? pts[0] : mid(pts[i - 2], pts[i - 1]);
    const to = mid(pts[i - 1], pts[i]);
    ctx.lineWidth = ctrl[2];
    ctx.moveTo(from[0], from[1]);
    ctx.quadraticCurveTo(ctrl[0], ctrl[1], to[0], to[1]);
  }
  ctx.stroke();
}

function drawStroke(ctx, stroke) {
  if (stroke.image) {
    ctx.drawImage(stroke.image, ...stroke.box); // a drawing brought in whole (a photo of paper, read)
    return;
  }
  const n = stroke.points.length;
  for (let i = 1; i <= n; i += 1) drawPiece(ctx, stroke, i);
}

function paint(ctx, strokes, scale, side) {
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.fillStyle = PAPER;
  ctx.fillRect(0, 0, side, side);
  ctx.setTransform(scale, 0, 0, scale, 0, 0);
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  for (const stroke of strokes) drawStroke(ctx, stroke);
}

export class DrawingBoard {
  /**
   * @param {HTMLCanvasElement} canvas shown on the page; sized by CSS, sharp at devicePixelRatio
   * @param {number} size the drawing's side in canvas px (CANVAS_SIZE)
   * @param {{onStrokeEnd?: Function, onChange?: Function}} hooks
   */
  constructor(canvas, size, hooks = {}) {
    this.canvas = canvas;
    this.size = size;
    this.hooks = hooks;
    this.ctx = canvas.getContext("2d");
    this.strokes = []; // drawn strokes, oldest first: {tool, color, points}, or {tool: "picture", image, box}
    this.undone = []; // strokes taken back by undo, most recent last
    this.tool = { tool: "pen", color: PENCIL, width: 8, pressure: true };
    this.pointer = null; // id of the pointer drawing now
    this.current = null; // the stroke being drawn
    this.startedAt = null; // performance.now() of this drawing's first stroke
    this.lastEndAt = null; // performance.now() of its last stroke end
    this.scale = 1; // backing-store px per canvas px
    this.changes = 0; // counts every change, so callers can tell whether the drawing changed
    this.listen();
    new ResizeObserver(() => this.fit()).observe(canvas);
    this.fit();
  }

  /** Choose what the next stroke draws with: {tool: "pen"|"crayon"|"eraser", color, width}. */
  setTool({ tool, color, width }) {
    const pressure = tool !== "eraser";
    this.tool = { tool, color: tool === "eraser" ? PAPER : color || PENCIL, width, pressure };
  }

  fit() {
    const rect = this.canvas.getBoundingClientRect();
    const side = Math.max(1, Math.round(rect.width * (window.devicePixelRatio || 1)));
    if (this.canvas.width !== side) {
      this.canvas.width = side;
      this.canvas.height = side;
    }
    this.scale = side / this.size;
    this.render();
  }

  render() {
    paint(this.ctx, this.strokes, this.scale, this.canvas.width);
  }

  point(event) {
    const rect = this.canvas.getBoundingClientRect();
    const k = this.size / rect.width;
    const x = Math.min(this.size, Math.max(0, (event.clientX - rect.left) * k));
    const y = Math.min(this.size, Math.max(0, (event.clientY - rect.top) * k));
    const width = this.tool.width * (this.tool.pressure ? pressureFactor(event) : 1);
    return [Math.round(x * 10) / 10, Math.round(y * 10) / 10, Math.round(width * 10) / 10];
  }

  listen() {
    const c = this.canvas;
    c.addEventListener("pointerdown", (e) => {
      if (this.pointer !== null || (e.pointerType === "mouse" && e.button !== 0)) return;
      e.preventDefault();
      try {
        c.setPointerCapture(e.pointerId); // keep the stroke when the finger slides off the paper
      } catch {
        // pointers that the browser does not track (synthetic events) cannot be captured
      }
      this.pointer = e.pointerId;
      const now = performance.now();
      if (this.startedAt === null) this.startedAt = now;
      this.current = { tool: this.tool.tool, color: this.tool.color, points: [this.point(e)] };
      this.strokes.push(this.current);
      this.undone = [];
      this.ctx.setTransform(this.scale, 0, 0, this.scale, 0, 0);
      this.ctx.lineCap = "round";
      this.ctx.lineJoin = "round";
      drawPiece(this.ctx, this.current, 1);
    });
    c.addEventListener("pointermove", (e) => {
      if (e.pointerId !== this.pointer || !this.current) return;
      e.preventDefault();
      const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
      for (const ev of events.length ? events : [e]) this.extend(this.point(ev));
    });
    const end = (e) => {
      if (e.pointerId !== this.pointer) return;
      const stroke = this.current;
      this.pointer = null;
      this.current = null;
      this.lastEndAt = performance.now();
      this.changes += 1;
      if (stroke.points.length > 1) drawPiece(this.ctx, stroke, stroke.points.length);
      this.hooks.onStrokeEnd?.(stroke);
      this.hooks.onChange?.();
    };
    c.addEventListener("pointerup", end);
    c.addEventListener("pointercancel", end);
    c.addEventListener("contextmenu", (e) => e.preventDefault());
  }

  extend(p) {
    const pts = this.current.points;
    const last = pts[pts.length - 1];
    if (Math.hypot(p[0] - last[0], p[1] - last[1]) < MIN_STEP) return;
    pts.push(p);
    if (pts.length === 2) {
      this.render(); // the stroke's dot becomes a line
      return;
    }
    drawPiece(this.ctx, this.current, pts.length - 1);
  }

  /**
   * Start from a drawing made elsewhere (a photo of a paper drawing, read on white): it is fitted
   * onto the paper, centred, as the first step of the drawing; undo takes it away.
   */
  placeImage(image) {
    if (this.current) return;
    const k = Math.min(this.size / image.width, this.size / image.height);
    const w = image.width * k;
    const h = image.height * k;
    this.strokes.push({ tool: "picture", image, box: [(this.size - w) / 2, (this.size - h) / 2, w, h] });
    this.undone = [];
    this.changes += 1;
    this.render();
    this.hooks.onChange?.();
  }

  undo() {
    if (this.current || !this.strokes.length) return false;
    this.undone.push(this.strokes.pop());
    this.changes += 1;
    this.render();
    this.hooks.onChange?.();
    return true;
  }

  redo() {
    if (this.current || !this.undone.length) return false;
    this.strokes.push(this.undone.pop());
    this.changes += 1;
    this.render();
    this.hooks.onChange?.();
    return true;
  }

  /** Start a new drawing: no strokes, nothing to redo, timer reset. */
  clear() {
    this.strokes = [];
    this.undone = [];
    this.startedAt = null;
    this.lastEndAt = null;
    this.changes += 1;
    this.render();
    this.hooks.onChange?.();
  }

  get canUndo() {
    return this.strokes.length > 0;
  }

  get canRedo() {
    return this.undone.length > 0;
  }

  /** Nothing but eraser strokes (or nothing at all) on the paper. */
  isBlank() {
    return !this.strokes.some((s) => s.tool !== "eraser");
  }

  /** How many different crayon colours the drawing uses. */
  coloursUsed() {
    return new Set(this.strokes.filter((s) => s.tool === "crayon").map((s) => s.color)).size;
  }

  /** Seconds from the first stroke to the last stroke end of this drawing. */
  secondsDrawing() {
    if (this.startedAt === null || this.lastEndAt === null) return 0;
    return Math.max(0, (this.lastEndAt - this.startedAt) / 1000);
  }

  /** Changes so far; equal numbers mean the same drawing. */
  get version() {
    return this.changes;
  }

  /** The drawing as a CANVAS_SIZE x CANVAS_SIZE canvas on white paper. */
  toCanvas() {
    const out = document.createElement("canvas");
    out.width = this.size;
    out.height = this.size;
    paint(out.getContext("2d"), this.strokes, 1, this.size);
    return out;
  }

  /** The drawing as a PNG Blob, CANVAS_SIZE px square on white. */
  toBlob() {
    return new Promise((resolve) => this.toCanvas().toBlob(resolve, "image/png"));
  }
}
