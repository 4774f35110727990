"""The default person selector: MediaPipe's selfie segmenter, the prompt, then GrabCut.

1. Where to look. The selfie segmenter is made for a person filling the picture; in a wide
   photo it takes cars and furniture for people. So it is shown the part of the photo where
   the person is: the box (grown by ROI_MARGIN) when one is given; else, when BlazeFace (full
   range, whole photo) finds a face the click is on or below, the region from just above
   that head down (:func:`~icanvas.portrait.faces.body_region`), other people's faces in it
   becoming background seeds; else the whole photo, and then once more the person region the
   click picks, grown by ROI_MARGIN.
2. GrabCut, started from the probabilities (sure person / sure background where the model is
   sure, its colour models decide the rest) and the clicks, puts the border on the photo's
   edges at up to GRABCUT_SIZE px.
3. :func:`icanvas.portrait.masks.resolve` keeps the regions the prompt points at, cuts what
   background clicks point at, grows regions from clicks off the person; the face is found
   by BlazeFace in the person's head area.

About 10 ms of model time per pass; GrabCut dominates the rest (see benchmarks/person_masks.py).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from icanvas.data.edges import as_photo
from icanvas.errors import ConfigError, MissingResourceError, PromptError
from icanvas.portrait.faces import FaceFinder, body_region, default_face_finder, face_for_prompt
from icanvas.portrait.litert import (FAR_FACE_FILE, FETCH_HINT, SEGMENTER_FILE, FaceDetector, SelfieSegmenter,
                                     find_model, search_dirs)
from icanvas.portrait.masks import finish, grabcut_refine, pick_regions, resolve
from icanvas.portrait.prompts import check_prompt
from icanvas.portrait.stages import Point, Prompt, Selection

REFINES = ("grabcut", "none")  # "grabcut": GrabCut from the probabilities and clicks; "none": the map thresholded
ROI_MARGIN = 0.2  # the looked-at region is the person's box grown by this fraction of its longer side on every side
ROI_REUSE = 0.6  # a region covering more than this fraction of the photo is not looked at again (first pass kept)
MIN_PROB = 0.5  # a pixel is "person" when the segmenter's probability is at least this
EDGE_SHARE = 0.2  # the person reaches a side of the looked-at region when this share of that side is "person" ...
REGROW = 2  # ... and the region (not yet the photo's edge there) is then grown by ROI_MARGIN and looked at again, at most this often


def _grow(box: tuple[int, int, int, int], shape: tuple[int, ...], margin: float) -> tuple[int, int, int, int]:
    """``box`` grown by ``margin`` x its longer side on every side, squared up where the photo allows."""
    h, w = shape[:2]
    x0, y0, x1, y1 = box
    side = max(x1 - x0, y1 - y0) * (1 + 2 * margin)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return (max(0, round(cx - side / 2)), max(0, round(cy - side / 2)), min(w, round(cx + side / 2)), min(h, round(cy + side / 2)))


def _shift(prompt: Prompt, dx: int, dy: int) -> tuple[Point, ...]:
    return tuple(Point(p.x - dx, p.y - dy, p.foreground) for p in prompt.points)


class SegmenterSelector:
    """PersonSelector on the selfie segmenter (CPU, ~0.25 MB model, no torch)."""

    name = "selfie-segmenter"

    def __init__(self, model_path: str | Path | None = None, *, refine: str = "grabcut", threads: int = 2,
                 face_finder: FaceFinder | None = None) -> None:
        if refine not in REFINES:
            raise ConfigError(f"Unknown refine {refine!r}.", f"Use one of: {', '.join(REFINES)}.")
        path = Path(model_path) if model_path is not None else find_model(SEGMENTER_FILE)
        if path is None or not path.is_file():
            where = str(path) if path is not None else " or ".join(str(d) for d in search_dirs())
            raise MissingResourceError(f"The person segmenter {SEGMENTER_FILE} is not in {where}.", FETCH_HINT)
        self.segmenter = SelfieSegmenter(path, threads)
        far = find_model(FAR_FACE_FILE)
        self.locator = FaceDetector(far, threads) if far is not None else None  # None: the whole-photo pass decides
        self.refine = refine
        self.faces = face_finder if face_finder is not None else default_face_finder(threads)

    def _look_once(self, img: np.ndarray, roi: tuple[int, int, int, int]) -> np.ndarray:
        x0, y0, x1, y1 = roi
        prob = np.zeros(img.shape[:2], np.float32)
        prob[y0:y1, x0:x1] = self.segmenter(img[y0:y1, x0:x1])
        return prob

    def _look(self, img: np.ndarray, roi: tuple[int, int, int, int]) -> tuple[np.ndarray, tuple[int, int, int, int]]:
        """(H, W) probabilities: the segmenter's answer on ``roi``, 0 elsewhere, and the region finally looked at.

        A person cut by a side of the region (something they hold, an arm) would keep a straight
        edge there, so while the person reaches a side that is not the photo's edge, the region
        grows and is looked at again; the new look only adds what lies outside the earlier region."""
        h, w = img.shape[:2]
        prob = self._look_once(img, roi)
        for _ in range(REGROW):
            x0, y0, x1, y1 = roi
            inside = prob[y0:y1, x0:x1] >= MIN_PROB
            sides = [(x0 > 0, inside[:, 0]), (x1 < w, inside[:, -1]), (y0 > 0, inside[0]), (y1 < h, inside[-1])]
            if not any(open_side and edge.mean() > EDGE_SHARE for open_side, edge in sides):
                break
            grown = _grow(roi, img.shape, ROI_MARGIN)
            wider = self._look_once(img, grown)
            wider[y0:y1, x0:x1] = prob[y0:y1, x0:x1]  # the first look stands where it looked; the wider one adds the rest
            prob, roi = wider, grown
        return prob, roi

    def person_map(self, img: np.ndarray, prompt: Prompt) -> tuple[np.ndarray, tuple[int, int, int, int], str, tuple[Point, ...]]:
        """(H, W) person probabilities, the region looked at closely, how that region was found,
        and the centres of other people's faces in it (background seeds, so that a neighbour
        touching the person is cut away)."""
        h, w = img.shape[:2]
        if prompt.box is not None:
            prob, roi = self._look(img, _grow(prompt.box, img.shape, ROI_MARGIN))
            return prob, roi, "box", ()
        faces = [f for f, _ in self.locator(img)] if self.locator is not None else []
        face = face_for_prompt(faces, prompt)
        if face is not None:
            prob, roi = self._look(img, body_region(face, img.shape))
            x0, y0, x1, y1 = roi
            others = tuple(Point(cx, cy, False) for cx, cy in (((f[0] + f[2]) // 2, (f[1] + f[3]) // 2) for f in faces)
                           if x0 <= cx < x1 and y0 <= cy < y1 and not (face[0] <= cx < face[2] and face[1] <= cy < face[3]))
            return prob, roi, "face", others
        whole = self.segmenter(img)  # (H, W)
        person = whole >= MIN_PROB
        if not person.any():
            raise PromptError("No person found in the photo.",
                              "Draw a box around the person (--box X0,Y0,X1,Y1), or use the SAM backend "
                              "(--sam-encoder/--sam-decoder), which selects any object.")
        picked, _ = pick_regions(person, prompt)
        if not picked.any():  # the click is on nothing: resolve() says so
            return whole, (0, 0, w, h), "photo", ()
        ys, xs = np.nonzero(picked)
        roi = _grow((int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1), img.shape, ROI_MARGIN)
        x0, y0, x1, y1 = roi
        if (x1 - x0) * (y1 - y0) > ROI_REUSE * h * w:
            return whole, (0, 0, w, h), "photo", ()
        prob, roi = self._look(img, roi)
        return prob, roi, "photo, then region", ()

    def select(self, photo: np.ndarray, prompt: Prompt) -> Selection:
        img = as_photo(photo)
        check_prompt(prompt, img.shape)
        t0 = time.perf_counter()
        prob, roi, found, others = self.person_map(img, prompt)
        seeded = Prompt(points=prompt.points + others, box=prompt.box)
        t1 = time.perf_counter()
        if self.refine == "grabcut":
            x0, y0, x1, y1 = roi
            person = np.zeros(img.shape[:2], bool)
            person[y0:y1, x0:x1] = grabcut_refine(img[y0:y1, x0:x1], prob[y0:y1, x0:x1], _shift(seeded, x0, y0))
        else:
            person = prob >= MIN_PROB
        t2 = time.perf_counter()
        region = resolve(img, person, seeded)
        info = {"backend": self.name, "refine": self.refine, "roi": roi, "roi_from": found, "other_faces": len(others),
                "ms_segment": round(1000 * (t1 - t0), 1), "ms_refine": round(1000 * (t2 - t1), 1)}
        sel = finish(img, region, self.faces, info)
        sel.info["ms_total"] = round(1000 * (time.perf_counter() - t0), 1)
        return sel
