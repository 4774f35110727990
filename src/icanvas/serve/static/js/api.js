// The studio's JSON API (same origin, under /api), with the CSRF header. The server ties the
// CSRF token to the login (or the guest cookie), so every change of login brings a new one:
// it comes in the CSRF cookie and in every `me` answer.

/** An answer the server refused: `problem` and `hint` come from {detail: {problem, hint}}. */
export class ApiError extends Error {
  constructor(status, problem, hint = "", retryAfter = null) {
    super(problem);
    this.status = status; // HTTP status; 0 when the server could not be reached
    this.problem = problem;
    this.hint = hint;
    this.retryAfter = retryAfter; // seconds from Retry-After, or null
  }
}

let csrfFromMe = null; // csrf_token of the last `me` answer, used when the cookie cannot be read

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)icanvas_csrf=([^;]*)/);
  return match ? decodeURIComponent(match[1]) : csrfFromMe;
}

async function errorFrom(res) {
  let problem = res.statusText || `HTTP ${res.status}`;
  let hint = "";
  try {
    const body = await res.json();
    const detail = body && body.detail;
    if (detail && typeof detail === "object" && !Array.isArray(detail)) {
      problem = detail.problem || problem;
      hint = detail.hint || "";
    } else if (Array.isArray(detail)) {
      problem = detail.map((d) => d.msg || String(d)).join("; ");
    } else if (typeof detail === "string") {
      problem = detail;
    }
  } catch {
    // not JSON: keep the status text
  }
  const retry = Number.parseInt(res.headers.get("Retry-After") || "", 10);
  return new ApiError(res.status, problem, hint, Number.isFinite(retry) ? retry : null);
}

async function send(method, path, { json, form, raw, retried = false } = {}) {
  const headers = { Accept: "application/json" };
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form) {
    body = form;
  } else if (raw) {
    headers["Content-Type"] = raw.type || "application/octet-stream"; // the server reads the bytes, not the type
    body = raw;
  }
  const token = method !== "GET" ? csrfToken() : null;
  if (token) headers["X-CSRF-Token"] = token;
  let res;
  try {
    res = await fetch(`/api${path}`, { method, headers, body, credentials: "same-origin" });
  } catch (err) {
    throw new ApiError(0, "network", String(err));
  }
  if (res.status === 403 && method !== "GET" && !retried) {
    await me().catch(() => null); // the token may be missing or belong to an older login
    if (csrfToken() !== token) return send(method, path, { json, form, raw, retried: true }); // only then it was the token
  }
  if (!res.ok) throw await errorFrom(res);
  return res;
}

const getJson = async (path) => (await send("GET", path)).json();
const postJson = async (path, json) => {
  const res = await send("POST", path, { json });
  if (res.status === 204) return null;
  const answer = await res.json();
  if (answer && answer.csrf_token) csrfFromMe = answer.csrf_token; // a `me` answer: a new login, a new token
  return answer;
};

function query(params) {
  const pairs = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== "");
  return pairs.length ? `?${new URLSearchParams(pairs)}` : "";
}

/** {role, parent, child, csrf_token}; also refreshes the CSRF token. */
export async function me() {
  const who = await getJson("/me");
  csrfFromMe = who.csrf_token || csrfFromMe;
  return who;
}

export const studio = () => getJson("/studio");
/** Sign up; the answer is the same whether or not the e-mail had an account, so log in next. */
export const register = (email, password) => postJson("/auth/register", { email, password });
export const login = (email, password) => postJson("/auth/login", { email, password });
export const logout = () => send("POST", "/auth/logout");
export const children = () => getJson("/children");
export const profiles = () => getJson("/profiles");
export const createChild = (nickname, avatar, pin) => postJson("/children", { nickname, avatar, pin });
export const deleteChild = (id) => send("DELETE", `/children/${id}`);
export const exportUrl = (id) => `/api/children/${id}/export`;
export const enterChild = (id, pin) => postJson(`/children/${id}/enter`, { pin });
export const unlockParent = (password) => postJson("/parent/unlock", { password });
export const progress = () => getJson("/progress");
export const missions = () => getJson("/missions");

/** POST the drawing; resolves to the picture as a PNG Blob. */
export async function generate(drawing, kind) {
  const form = new FormData();
  form.append("drawing", drawing, "drawing.png");
  form.append("canvas", "true"); // the board's own export: no sheet of paper to look for
  if (kind) form.append("kind", kind);
  return (await send("POST", "/generate", { form })).blob();
}

/** A picture the studio makes up by itself (of `kind` when given), as a PNG Blob. */
export async function surprise(kind) {
  return (await send("GET", `/surprise${query({ kind })}`)).blob();
}

/** Top guesses [{label, prob, kind}] for the drawing; [] without a recognizer. */
export async function recognize(drawing) {
  const form = new FormData();
  form.append("drawing", drawing, "drawing.png");
  form.append("canvas", "true");
  const res = await send("POST", "/recognize", { form });
  return (await res.json()).guesses || [];
}

/**
 * Read a photo of a paper drawing: where the page is and the drawing as the models see it (POST /api/paper).
 * `corners` ([[x, y] x 4] in px of the photo) place the page by hand; null lets the server search for it.
 */
export async function readPaper(photo, corners = null) {
  const form = new FormData();
  form.append("photo", photo, "photo.jpg");
  if (corners) form.append("corners", JSON.stringify(corners.map(([x, y]) => [Math.round(x * 10) / 10, Math.round(y * 10) / 10])));
  return (await send("POST", "/paper", { form })).json();
}

/**
 * Save a creation: {drawing, picture?, kind, colours, seconds, missionId?, idempotencyKey?} -> {creation, rewards}.
 * Sending a save again with the same `idempotencyKey` answers the first one instead of saving twice.
 */
export async function saveCreation({ drawing, picture, kind, colours, seconds, missionId, idempotencyKey }) {
  const form = new FormData();
  form.append("drawing", drawing, "drawing.png");
  form.append("canvas", "true");
  if (picture) form.append("picture", picture, "picture.png");
  if (kind) form.append("kind", kind);
  form.append("colours", String(colours));
  form.append("seconds", seconds.toFixed(1));
  if (missionId) form.append("mission_id", missionId);
  if (idempotencyKey) form.append("idempotency_key", idempotencyKey);
  return (await send("POST", "/creations", { form })).json();
}

export const creations = (params = {}) => getJson(`/creations${query(params)}`);
export async function setFavourite(id, favourite) {
  return (await send("PATCH", `/creations/${id}`, { json: { favourite } })).json();
}
export const deleteCreation = (id) => send("DELETE", `/creations/${id}`);

// Photo -> character (grown-ups only). Clicks are {x, y, foreground} in pixels of the photo as the
// server keeps it ({width, height} of the upload's answer).

export const portraitStudio = () => getJson("/portrait");
/** Send a photo File/Blob as the request body; resolves to {width, height, expires_in_s}. */
export async function uploadPhoto(file) {
  return (await send("POST", "/portrait/photo", { raw: file })).json();
}
export const forgetPhoto = () => send("DELETE", "/portrait/photo");
/** The person the clicks point at, as a greyscale PNG Blob of the photo's size. */
export async function portraitMask(points) {
  return (await send("POST", "/portrait/mask", { json: { points } })).blob();
}
/** The photo with the person redrawn in `style`, as a PNG Blob. */
export async function stylize(points, style) {
  return (await send("POST", "/portrait/stylize", { json: { points, style } })).blob();
}
export const portraits = () => getJson("/portraits");
/** Keep a picture (PNG Blob) in the grown-up's own album; saving the same picture again answers the first save. */
export async function savePortrait(picture, style) {
  const form = new FormData();
  form.append("picture", picture, "character.png");
  if (style) form.append("style", style);
  return (await send("POST", "/portraits", { form })).json();
}
export const deletePortrait = (id) => send("DELETE", `/portraits/${id}`);
