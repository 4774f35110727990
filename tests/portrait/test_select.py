"""Stage 1 (person selection): prompt parsing and errors, the region logic, the classical and
segmenter backends on drawn figures (the SAM backend: test_sam.py)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from icanvas.errors import ConfigError, MissingResourceError, PromptError
from icanvas.portrait import masks
from icanvas.portrait.classical import ClassicalSelector, body_prior, grabcut_select
from icanvas.portrait.litert import FACE_FILE, MODELS_ENV, SEGMENTER_FILE, find_model, litert_installed
from icanvas.portrait.select import backend_status, default_selector, parse_box, parse_point, parse_points
from icanvas.portrait.stages import Point, Prompt

HAVE_MODELS = litert_installed() and find_model(SEGMENTER_FILE) is not None and find_model(FACE_FILE) is not None
needs_models = pytest.mark.skipif(not HAVE_MODELS, reason="run scripts/fetch_portrait_models.sh (setup.sh does)")


def draw_person(img: np.ndarray, truth: np.ndarray, cx: int, scale: float = 1.0) -> tuple[int, int, int, int]:
    """Draw a figure (hair, face with eyes and mouth, red shirt to the bottom edge); returns its face box."""
    h = img.shape[0]
    s = lambda v: round(v * scale)  # noqa: E731
    head_y = h - s(150)
    body = np.array([[cx - s(25), head_y + s(40)], [cx + s(25), head_y + s(40)], [cx + s(55), head_y + s(72)],
                     [cx + s(60), h], [cx - s(60), h], [cx - s(55), head_y + s(72)]])
    for target, colour in ((img, (200, 40, 40)), (truth, 1)):
        cv2.fillPoly(target, [body], colour)
        cv2.ellipse(target, (cx, head_y), (s(36), s(44)), 0, 0, 360, (60, 40, 30) if target is img else 1, -1)
    cv2.ellipse(img, (cx, head_y + s(8)), (s(28), s(36)), 0, 0, 360, (225, 185, 160), -1)
    for dx in (-11, 11):
        cv2.circle(img, (cx + s(dx), head_y + s(2)), max(1, s(3)), (30, 30, 30), -1)
    cv2.ellipse(img, (cx, head_y + s(28)), (s(9), s(4)), 0, 0, 180, (150, 60, 60), -1)
    return cx - s(28), head_y - s(28), cx + s(28), head_y + s(44)


def scene(w: int = 320, h: int = 240, people: tuple[int, ...] = (150,), scale: float = 1.0, seed: int = 0):
    """A photo (H, W, 3) of figures on a green textured background, their union truth mask and face boxes."""
    rng = np.random.default_rng(seed)
    tiles = (rng.integers(0, 40, (h // 8, w // 8, 3)) + np.array([60, 120, 70])).astype(np.uint8)
    img = cv2.resize(tiles, (w, h), interpolation=cv2.INTER_NEAREST)
    truth = np.zeros((h, w), np.uint8)
    faces = [draw_person(img, truth, cx, scale) for cx in people]
    return img, truth > 0, faces


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


class FixedFaces:
    """A face finder that returns given boxes (in the coordinates of whatever picture it is given)."""

    name = "fixed"

    def __init__(self, boxes):
        self.boxes = boxes

    def __call__(self, img):
        return [(b, 1.0) for b in self.boxes]


# --- prompts ---------------------------------------------------------------------------------

def test_parse_points_reads_foreground_and_background_clicks():
    assert parse_points(["120,80", "-30,40", " 5 , 6 "]) == (Point(120, 80), Point(30, 40, False), Point(5, 6))
    assert parse_points(["30,40"], foreground=False) == (Point(30, 40, False),)
    assert parse_point("10.6,3") == Point(11, 3)


@pytest.mark.parametrize("text", ["12", "1,2,3", "a,b", "", "5,-3"])
def test_parse_point_rejects_bad_text(text):
    with pytest.raises(PromptError) as e:
        parse_point(text)
    assert e.value.hint


def test_parse_box_and_its_errors():
    assert parse_box("10,10,200,300") == (10, 10, 200, 300)
    for bad, word in (("200,10,10,300", "inverted"), ("10,10,10,300", "empty"), ("10,10,12,300", "too small"), ("1,2,3", "Cannot read")):
        with pytest.raises(PromptError, match=word):
            parse_box(bad)


@pytest.mark.parametrize("prompt, word", [
    (Prompt(), "No prompt"),
    (Prompt(points=(Point(320, 10),)), "outside the photo"),
    (Prompt(points=(Point(10, 240),)), "outside the photo"),
    (Prompt(box=(0, 0, 321, 100)), "reaches outside"),
    (Prompt(box=(50, 50, 40, 100)), "empty or inverted"),
    (Prompt(points=(Point(10, 10, False),)), "Only background clicks"),
])
def test_bad_prompts_are_refused_before_any_work(prompt, word):
    img, _, _ = scene()
    selector = ClassicalSelector(face_finder=FixedFaces([]))
    with pytest.raises(PromptError, match=word):
        selector.select(img, prompt)


# --- region logic ------------------------------------------------------------------------------

def two_blobs():
    person = np.zeros((100, 200), bool)
    person[20:80, 20:70] = True
    person[20:80, 120:180] = True
    return person


def test_pick_regions_by_click_by_nearby_click_and_by_box():
    person = two_blobs()
    region, missed = masks.pick_regions(person, Prompt(points=(Point(150, 50),)))
    assert region[50, 150] and not region[50, 40] and not missed
    region, _ = masks.pick_regions(person, Prompt(points=(Point(74, 50),)))  # 4 px off the left blob: still picks it
    assert region[50, 40] and not region[50, 150]
    region, missed = masks.pick_regions(person, Prompt(points=(Point(100, 95),)))
    assert not region.any() and missed == [Point(100, 95)]
    region, _ = masks.pick_regions(person, Prompt(box=(0, 0, 90, 100)))
    assert region[50, 40] and not region[50, 150]


def test_background_click_cuts_a_touching_neighbour_away():
    img = np.zeros((100, 200, 3), np.uint8)
    img[:, :100] = (200, 40, 40)
    img[:, 100:] = (40, 40, 200)
    region = np.zeros((100, 200), bool)
    region[10:90, 10:190] = True  # two differently coloured things that touch: one region
    prompt = Prompt(points=(Point(50, 50), Point(150, 50, False)))
    cut = masks.cut_background_clicks(img, region, prompt)
    assert cut[50, 50] and not cut[50, 150]
    assert abs(int(np.nonzero(cut[50])[0].max()) - 99) <= 2  # the cut follows the colour edge


def test_foreground_click_off_the_person_grows_a_region_there():
    img, truth, _ = scene()
    cv2.rectangle(img, (240, 30), (280, 70), (250, 250, 0), -1)  # a bright object the segmenter would miss
    region = masks.resolve(img, truth, Prompt(points=(Point(150, 200), Point(260, 50))))
    assert region[200, 150] and region[50, 260]
    assert region[32:68, 242:278].mean() > 0.9 and not region[100, 300]


def test_resolve_errors_and_hole_filling():
    img, truth, _ = scene()
    with pytest.raises(PromptError, match="selects nothing"):
        masks.resolve(img, truth, Prompt(points=(Point(10, 10),)))
    with pytest.raises(PromptError, match="inside the box"):
        masks.resolve(img, truth, Prompt(box=(0, 0, 40, 40)))
    holed = truth.copy()
    holed[200:204, 140:144] = False
    assert masks.fill_holes(holed)[202, 142]


def test_soft_edges_are_soft_and_agree_with_the_region():
    img, truth, _ = scene()
    soft = masks.soft_edges(img, truth)
    assert soft.dtype == np.float32 and soft.shape == truth.shape
    assert 0.0 <= soft.min() and soft.max() <= 1.0
    assert np.array_equal(soft > 0.5, truth)
    assert ((soft > 0.05) & (soft < 0.95)).any()  # some border pixels in between


# --- faces ------------------------------------------------------------------------------------------

def test_face_for_prompt_and_body_region():
    from icanvas.portrait.faces import body_region, face_for_prompt

    faces = [(100, 50, 140, 100), (300, 60, 340, 110)]
    assert face_for_prompt(faces, Prompt(points=(Point(310, 200),))) == faces[1]  # a click on the body below a face
    assert face_for_prompt(faces, Prompt(points=(Point(120, 20),))) is None  # well above every face
    assert face_for_prompt(faces, Prompt(box=(0, 0, 200, 300))) == faces[0]
    x0, y0, x1, y1 = body_region(faces[0], (480, 640))
    assert x0 < 100 and x1 > 140 and y0 < 50 and y1 == 480


@needs_models
@pytest.mark.parametrize("filename", [FACE_FILE, "face_detection_full_range_sparse.tflite"])
def test_blazeface_finds_the_drawn_face(filename):
    from icanvas.portrait.litert import FaceDetector

    img, _, faces = scene()
    found = FaceDetector(find_model(filename), threads=1)(img)
    assert found and found[0][1] > 0.5
    (x0, y0, x1, y1), (tx0, ty0, tx1, ty1) = found[0][0], faces[0]
    assert abs((x0 + x1) - (tx0 + tx1)) / 2 < 12 and abs((y0 + y1) - (ty0 + ty1)) / 2 < 20


# --- classical backend ---------------------------------------------------------------------------

def test_body_prior_marks_face_core_sure_and_far_corners_background():
    labels = body_prior((240, 320), (122, 62, 178, 134))
    assert labels[98, 150] == cv2.GC_FGD
    assert labels[200, 150] == cv2.GC_PR_FGD  # the shirt below the face
    assert labels[5, 5] == cv2.GC_BGD


def small_scene(people: tuple[int, ...] = (95,)):
    """GrabCut's cost grows fast with the pixel count: the classical tests use 200x150 photos."""
    return scene(w=200 if len(people) == 1 else 240, h=150, people=people, scale=0.6)


def test_classical_selector_with_a_face_prior():
    img, truth, faces = small_scene()
    sel = ClassicalSelector(face_finder=FixedFaces(faces)).select(img, Prompt(points=(Point(95, 125),)))
    assert sel.info["backend"] == "classical" and sel.info["prior"] == "face"
    assert sel.face == faces[0]
    assert sel.mask.shape == truth.shape and sel.mask.dtype == np.float32
    assert iou(sel.mask > 0.5, truth) > 0.85
    x0, y0, x1, y1 = sel.box
    assert (x0, y1) == (int(np.nonzero(sel.mask > 0.5)[1].min()), 150)


def test_classical_selector_without_a_face_is_grabcut_from_the_prompt():
    img, truth, _ = small_scene()
    sel = ClassicalSelector(face_finder=FixedFaces([])).select(img, Prompt(box=(45, 20, 150, 150)))
    assert sel.info["prior"] == "rectangle" and sel.face is None
    assert iou(sel.mask > 0.5, truth) > 0.85
    assert iou(grabcut_select(img, Prompt(points=(Point(95, 125),))), truth) > 0.8


def test_classical_picks_the_clicked_one_of_two_people():
    img, truth, faces = small_scene(people=(60, 180))
    sel = ClassicalSelector(face_finder=FixedFaces(faces)).select(img, Prompt(points=(Point(180, 125),)))
    assert sel.face == faces[1]
    assert (sel.mask > 0.5)[125, 180] and not (sel.mask > 0.5)[125, 60]


# --- default backend (tflite) ----------------------------------------------------------------------

@needs_models
def test_segmenter_selects_the_clicked_person_and_finds_the_face():
    img, truth, faces = scene(w=400, people=(100, 300))
    selector = default_selector()
    assert selector.name == "selfie-segmenter"
    sel = selector.select(img, Prompt(points=(Point(300, 200),)))
    right = truth.copy()
    right[:, :200] = False
    assert sel.info["backend"] == "selfie-segmenter"
    assert iou(sel.mask > 0.5, right) > 0.9
    assert sel.face is not None
    fx0, fy0, fx1, fy1 = sel.face
    assert fx0 <= 300 <= fx1 and fy0 <= faces[1][1] + 30 <= fy1


@needs_models
def test_segmenter_looks_closely_at_a_small_person_in_a_wide_photo():
    img, truth, _ = scene(w=640, h=480, people=())
    draw_person(img, truth, 450, scale=0.8)
    sel = default_selector().select(img, Prompt(points=(Point(450, 440),)))
    x0, y0, x1, y1 = sel.info["roi"]
    assert sel.info["roi_from"] == "face" and (x1 - x0) * (y1 - y0) < 0.5 * 640 * 480
    assert iou(sel.mask > 0.5, truth > 0) > 0.85


@needs_models
def test_segmenter_cuts_a_touching_neighbour_at_their_face():
    img, truth, faces = scene(w=400, people=(150, 250))  # the two shirts overlap: one region to the segmenter
    sel = default_selector().select(img, Prompt(points=(Point(150, 200),)))
    hard = sel.mask > 0.5
    assert sel.info["other_faces"] == 1
    left, right = [((f[0] + f[2]) // 2, (f[1] + f[3]) // 2) for f in faces]
    assert hard[left[1], left[0]] and not hard[right[1], right[0]]


@needs_models
def test_segmenter_box_prompt_background_click_and_errors():
    img, truth, _ = scene(w=400, people=(100, 300))
    selector = default_selector()
    sel = selector.select(img, Prompt(box=(20, 40, 190, 240)))
    assert (sel.mask > 0.5)[200, 100] and not (sel.mask > 0.5)[200, 300]
    sel = selector.select(img, Prompt(points=(Point(100, 200), Point(100, 90, False))))  # "not the head"
    assert (sel.mask > 0.5)[200, 100] and not (sel.mask > 0.5)[90, 100]
    with pytest.raises(PromptError, match="selects nothing"):
        selector.select(img, Prompt(points=(Point(200, 10),)))
    empty, _, _ = scene(people=())
    with pytest.raises(PromptError, match="No person found in the photo"):
        selector.select(empty, Prompt(points=(Point(100, 100),)))


def test_missing_model_files_fall_back_to_the_classical_backend(tmp_path, monkeypatch):
    monkeypatch.setenv(MODELS_ENV, str(tmp_path))
    assert default_selector().name == "classical"
    status = backend_status()
    assert "classical" in status and "fetch_portrait_models.sh" in status and "\n" not in status
    from icanvas.portrait.segmenter import SegmenterSelector

    with pytest.raises(MissingResourceError, match=SEGMENTER_FILE):
        SegmenterSelector()
    with pytest.raises(ConfigError):
        SegmenterSelector(tmp_path / "x.tflite", refine="magic")


@needs_models
def test_backend_status_names_the_segmenter_when_present():
    assert backend_status().startswith("person selection: selfie-segmenter")


def test_a_person_cut_by_the_looked_at_region_makes_it_grow():
    """Something the person holds reaches past the first region: the region grows until it is inside."""
    from icanvas.portrait.segmenter import SegmenterSelector

    img = np.zeros((200, 400, 3), np.uint8)
    img[40:200, 150:330] = (200, 30, 30)  # the person and what they hold, wider than the first region
    sel = object.__new__(SegmenterSelector)  # only the looking logic, with a stand-in segmenter
    sel.segmenter = lambda crop: (crop[..., 0] > 100).astype(np.float32)
    prob, roi = sel._look(img, (150, 40, 250, 200))
    assert roi[2] > 330 and prob[100, 320] == 1.0 and prob[100, 100] == 0.0
    prob, roi = sel._look(img, (100, 0, 380, 200))  # already around the person: looked at once, unchanged
    assert roi == (100, 0, 380, 200)
