"""Data: photos -> line drawings -> training pairs.

Conventions used by every module here:

- a *photo* is ``np.ndarray`` (H, W, 3) uint8 RGB;
- a *sketch* (line drawing) is ``np.ndarray`` (H, W) uint8 as a person sees it:
  255 = white paper, 0 = black ink; functions that need a mask compute ``sketch < 128``;
- randomness comes from an ``np.random.Generator`` passed in, never from global state,
  so everything is deterministic for a seed.
"""
