"""Recognizer pipeline: loading, sorted guesses, blank and bad input, wrong model kind."""

import cv2
import numpy as np
import pytest
import torch

from icanvas.checkpoint import save_pretrained
from icanvas.config import RecognizerConfig, UNetConfig
from icanvas.errors import CheckpointError, InputImageError
from icanvas.models.recognizer import SketchClassifier
from icanvas.models.unet import UNetGenerator
from icanvas.pipelines.recognizer import Recognizer

LABELS = ["apple", "cat", "sun", "tree"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    torch.manual_seed(0)
    cfg = RecognizerConfig(channels=(8, 16), convs_per_stage=1, num_classes=len(LABELS))
    net = SketchClassifier(cfg)
    for m in net.modules():  # non-trivial BatchNorm statistics so eval mode differs from init
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
    return save_pretrained(net, tmp_path_factory.mktemp("rec") / "recognizer", method="recognizer", config=cfg,
                           meta={"labels": LABELS}, half=True)


def drawing(h=300, w=420) -> np.ndarray:
    page = np.full((h, w), 255, np.uint8)
    cv2.circle(page, (w // 2, h // 2), min(h, w) // 4, 0, 6)
    cv2.line(page, (w // 2, h // 4), (w // 2 + 30, h // 8), 0, 6)
    return page


def test_predict_returns_sorted_probabilities(folder):
    rec = Recognizer.from_pretrained(folder)
    assert rec.labels == LABELS and rec.size == 28
    guesses = rec.predict(drawing(), top=3)
    assert len(guesses) == 3 and all(label in LABELS for label, _ in guesses)
    probs = [p for _, p in guesses]
    assert probs == sorted(probs, reverse=True) and all(0.0 <= p <= 1.0 for p in probs) and sum(probs) <= 1.0 + 1e-6
    everything = rec.predict(drawing(), top=10)
    assert len(everything) == 4 and sum(p for _, p in everything) == pytest.approx(1.0, abs=1e-5)
    assert everything[:3] == guesses
    assert rec.predict(drawing(), top=0) == []


def test_same_drawing_any_size_same_guess(folder):
    rec = Recognizer.from_pretrained(folder)
    small = rec.predict(drawing(150, 210), top=1)[0][0]
    big = cv2.resize(drawing(150, 210), (840, 600), interpolation=cv2.INTER_NEAREST)
    assert rec.predict(big, top=1)[0][0] == small
    assert rec.bitmap(big).shape == (28, 28)


def test_blank_and_bad_inputs(folder):
    rec = Recognizer.from_pretrained(folder)
    assert rec.predict(np.full((512, 512), 255, np.uint8)) == []
    with pytest.raises(InputImageError, match="uint8"):
        rec.predict(np.zeros((64, 64, 3), np.uint8))
    with pytest.raises(InputImageError, match="uint8"):
        rec.predict(np.zeros((64, 64), np.float32))


def test_refuses_other_models(tmp_path):
    cfg = UNetConfig(image_size=16, ngf=2, max_channels=4)
    path = save_pretrained(UNetGenerator(cfg), tmp_path / "g", method="pix2pix", config=cfg)
    with pytest.raises(CheckpointError, match="not a recognizer"):
        Recognizer.from_pretrained(path)
    net_cfg = RecognizerConfig(channels=(8,), num_classes=3)
    path = save_pretrained(SketchClassifier(net_cfg), tmp_path / "r", method="recognizer", config=net_cfg, meta={"labels": ["a"]})
    with pytest.raises(CheckpointError, match="labels"):
        Recognizer.from_pretrained(path)


def test_pipeline_imports_no_training_code():
    import subprocess
    import sys

    code = "import sys, icanvas.pipelines.recognizer; print(any(m.startswith('icanvas.training') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"


def _page() -> np.ndarray:
    return np.full((512, 512), 255, np.uint8)


def _house() -> np.ndarray:
    p = _page()
    cv2.rectangle(p, (150, 250), (370, 450), 0, 8)
    cv2.polylines(p, [np.array([[130, 260], [260, 110], [390, 260]])], False, 0, 8)
    cv2.rectangle(p, (230, 360), (290, 450), 0, 8)
    return p


def _sun() -> np.ndarray:
    p = _page()
    cv2.circle(p, (256, 256), 80, 0, 8)
    for a in np.linspace(0, 2 * np.pi, 9)[:-1]:
        c, s = np.cos(a), np.sin(a)
        cv2.line(p, (int(256 + 110 * c), int(256 + 110 * s)), (int(256 + 170 * c), int(256 + 170 * s)), 0, 8)
    return p


def _face() -> np.ndarray:
    p = _page()
    cv2.circle(p, (256, 256), 180, 0, 8)
    cv2.circle(p, (190, 210), 20, 0, -1)
    cv2.circle(p, (320, 210), 20, 0, -1)
    cv2.ellipse(p, (256, 300), (80, 50), 0, 20, 160, 0, 8)
    return p


def test_bundled_recognizer():
    from icanvas.catalog import find_model, list_models

    folder = find_model("recognizer")
    assert (folder / "generator.safetensors").stat().st_size < 2 * 2**20
    assert any(e.name == "recognizer" and e.method == "recognizer" for e in list_models())
    rec = Recognizer.from_pretrained(folder)
    assert rec.labels == ["apple", "bicycle", "car", "cat", "diamond", "eye", "face", "fish", "flower", "house", "sun", "tree",
                          "handbag", "panda", "shoe"]  # the studio's kinds without real Quick, Draw! bitmaps come last
    for want, page in [("house", _house()), ("sun", _sun()), ("face", _face())]:
        label, prob = rec.predict(page, top=1)[0]
        assert label == want and prob > 0.5, (want, label, prob)
    assert rec.preselect_min_prob is not None and 0.2 < rec.preselect_min_prob < 1.0
    card = (folder / "card.md").read_text()
    assert "CC BY 4.0" in card and "Confusion matrix" in card and "UT-Zappos50K" in card and "panda photographs" in card


def test_preselect_threshold_comes_from_the_model(tmp_path):
    cfg = RecognizerConfig(channels=(8, 16), convs_per_stage=1, num_classes=2)
    net = SketchClassifier(cfg)
    sure = save_pretrained(net, tmp_path / "a", method="recognizer", config=cfg, meta={"labels": ["cat", "shoe"], "preselect_min_prob": 0.62})
    assert Recognizer.from_pretrained(sure).preselect_min_prob == 0.62
    unfitted = save_pretrained(net, tmp_path / "b", method="recognizer", config=cfg, meta={"labels": ["cat", "shoe"]})
    assert Recognizer.from_pretrained(unfitted).preselect_min_prob is None
    broken = save_pretrained(net, tmp_path / "c", method="recognizer", config=cfg, meta={"labels": ["cat", "shoe"], "preselect_min_prob": 3})
    with pytest.raises(CheckpointError, match="preselect_min_prob"):
        Recognizer.from_pretrained(broken)
