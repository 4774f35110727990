"""The fallback person selector, for when the segmenter's model file is missing: face -> body
prior -> GrabCut. Slower and rougher than :mod:`icanvas.portrait.segmenter`; no file needed.

1. A face is looked for (BlazeFace if its file is there, else scikit-image's LBP cascade): the
   one the click is on or above, or the one inside the box.
2. From the face box, a body prior: head and hair (an ellipse around the face), neck and
   shoulders widening down to the photo's bottom are "probably person", the face's centre is
   "surely person", what lies far from all that is "surely background" (see ``body_prior``).
3. GrabCut from that prior plus the clicks and the box; the prompt then picks the region.

Without a face it is GrabCut alone (:func:`grabcut_select`): the box, or the whole photo less a
thin strip along its top and sides, is "probably person", and the clicks are sure labels.
"""

from __future__ import annotations

import time

import cv2
import numpy as np

from icanvas.data.edges import as_photo
from icanvas.portrait.faces import FaceBox, FaceFinder, default_face_finder, face_for_prompt
from icanvas.portrait.masks import finish, paint_clicks, resize_mask, resolve, run_grabcut, work_scale
from icanvas.portrait.prompts import check_prompt
from icanvas.portrait.stages import Prompt, Selection

ROUNDS = 4  # GrabCut iterations of the classical selector
WORK_SIZE = 200  # px; GrabCut runs with the photo's longer side at most this (its cost grows ~ the pixel count squared)
BORDER = 0.03  # width of the sure-background strip along the photo's top and sides without a box, fraction of the side
HEAD = (1.0, 1.25)  # half-width, half-height of the head-and-hair ellipse, in face widths / heights
HEAD_LIFT = 0.3  # the head ellipse's centre sits this many face heights above the face box's centre
CORE = (0.3, 0.35)  # half-axes of the sure-person ellipse in the face's centre, in face widths / heights
SHOULDERS = (0.4, 1.6, 1.0, 2.0)  # neck half-width, shoulder half-width, shoulder drop (face heights), bottom half-width (face widths)
FAR = 0.3  # pixels further than this many face widths from the prior are sure background


def body_prior(shape: tuple[int, int], face: FaceBox) -> np.ndarray:
    """GrabCut labels (h, w) uint8 of a person whose face box is ``face`` (in the same pixels)."""
    h, w = shape
    fx0, fy0, fx1, fy1 = face
    fw, fh = fx1 - fx0, fy1 - fy0
    cx, cy = (fx0 + fx1) / 2, (fy0 + fy1) / 2
    prior = np.zeros((h, w), np.uint8)
    cv2.ellipse(prior, (round(cx), round(cy - HEAD_LIFT * fh)), (round(HEAD[0] * fw), round(HEAD[1] * fh)), 0, 0, 360, 1, -1)
    neck, shoulder, drop, bottom = SHOULDERS
    body = np.array([[cx - neck * fw, fy1 - 0.2 * fh], [cx + neck * fw, fy1 - 0.2 * fh], [cx + shoulder * fw, fy1 + drop * fh],
                     [cx + bottom * fw, h], [cx - bottom * fw, h], [cx - shoulder * fw, fy1 + drop * fh]])
    cv2.fillPoly(prior, [np.round(body).astype(np.int32)], 1)
    labels = np.full((h, w), cv2.GC_PR_BGD, np.uint8)
    labels[prior > 0] = cv2.GC_PR_FGD
    far = round(FAR * fw)
    near = cv2.dilate(prior, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * far + 1, 2 * far + 1)))
    labels[near == 0] = cv2.GC_BGD
    cv2.ellipse(labels, (round(cx), round(cy)), (max(1, round(CORE[0] * fw)), max(1, round(CORE[1] * fh))), 0, 0, 360,
                cv2.GC_FGD, -1)
    return labels


def rect_labels(shape: tuple[int, int], box: tuple[int, int, int, int] | None) -> np.ndarray:
    """GrabCut labels (h, w): inside ``box`` probably person, outside sure background; without a
    box, the photo less a BORDER strip along its top, left and right edges (a person in a
    photo usually goes on past its bottom edge)."""
    h, w = shape
    labels = np.full((h, w), cv2.GC_BGD, np.uint8)
    if box is None:
        m = max(1, round(BORDER * min(h, w)))
        box = (m, m, w - m, h)
    x0, y0, x1, y1 = box
    labels[y0:y1, x0:x1] = cv2.GC_PR_FGD
    return labels


def _grabcut_person(img: np.ndarray, prompt: Prompt, face: FaceBox | None) -> np.ndarray:
    """(H, W) bool person map from GrabCut at the working size, started from the prior or the rectangle."""
    h, w = img.shape[:2]
    s = work_scale(img.shape, WORK_SIZE)
    small = img if s == 1.0 else cv2.resize(img, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
    sh, sw = small.shape[:2]
    box = None if prompt.box is None else tuple(round(v * s) for v in prompt.box)
    if face is not None:
        labels = body_prior((sh, sw), tuple(round(v * s) for v in face))
        if box is not None:
            outside = np.ones((sh, sw), bool)
            outside[box[1] : box[3], box[0] : box[2]] = False
            labels[outside] = cv2.GC_BGD
    else:
        labels = rect_labels((sh, sw), box)
    paint_clicks(labels, prompt.points, s)
    person = run_grabcut(small, labels, ROUNDS)
    if box is None and face is None:
        # the border strip is a guess, not an answer: a person reaching it goes on to the photo's edge
        m = max(1, round(BORDER * min(sh, sw)))
        person = cv2.copyMakeBorder(person[m:, m:-m].astype(np.uint8), m, 0, m, m, cv2.BORDER_REPLICATE) > 0
    return resize_mask(person, img.shape)


def grabcut_select(photo: np.ndarray, prompt: Prompt) -> np.ndarray:
    """GrabCut alone from the prompt (the box, or the whole photo less a border strip; clicks as
    sure labels), then the region the prompt points at. Returns (H, W) bool."""
    img = as_photo(photo)
    check_prompt(prompt, img.shape)
    return resolve(img, _grabcut_person(img, prompt, None), prompt)


class ClassicalSelector:
    """PersonSelector without model files (face detector + body prior + GrabCut)."""

    name = "classical"

    def __init__(self, face_finder: FaceFinder | None = None) -> None:
        self.faces = face_finder if face_finder is not None else default_face_finder()

    def select(self, photo: np.ndarray, prompt: Prompt) -> Selection:
        img = as_photo(photo)
        check_prompt(prompt, img.shape)
        t0 = time.perf_counter()
        face = face_for_prompt([f for f, _ in self.faces(img)], prompt)
        t1 = time.perf_counter()
        region = resolve(img, _grabcut_person(img, prompt, face), prompt)
        info = {"backend": self.name, "prior": "face" if face is not None else "rectangle",
                "ms_face": round(1000 * (t1 - t0), 1), "ms_grabcut": round(1000 * (time.perf_counter() - t1), 1)}
        return finish(img, region, None, info, face=face)
