// The page's shared state; modules change it with update() and react through subscribe().

export const state = {
  studio: null, // GET /api/studio: canvas size, pens, crayons, kinds, ...
  me: { role: "guest", parent: null, child: null }, // GET /api/me
  kind: null, // the kind of thing being drawn (a model kind id)
  kindByHand: false, // the child chose the kind themselves for this drawing
  mission: null, // the mission the child is doing now, or null
  missions: [], // GET /api/missions
  progress: null, // GET /api/progress while a child is active, else null
};

const listeners = new Set();

/** Merge `patch` into the state and tell every listener which keys changed. */
export function update(patch) {
  Object.assign(state, patch);
  for (const fn of listeners) fn(state, patch);
}

/** Call `fn(state, patch)` after every update; returns a function that stops it. */
export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** The installed kind with id `kind`, or undefined. */
export function findKind(kind) {
  return (state.studio?.kinds || []).find((k) => k.kind === kind);
}
