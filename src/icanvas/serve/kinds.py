"""What the studio can draw: loading models once at start and describing their kinds to the page.

Every pix2pix model in the catalog (and in ``Settings.model_path``) is loaded; a
class-conditional model serves each of its kinds, any other model the kind named in its
config (or its folder name). The first model found for a kind wins. The recognizer is loaded
when ``icanvas.pipelines.recognizer`` and a ``recognizer`` model folder are both present.
Every dcgan model found the same way makes "surprise me" pictures.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from icanvas.checkpoint import CONFIG_FILE, read_model_info
from icanvas.errors import ICanvasError

log = logging.getLogger("icanvas.serve")

# kind -> (label by language, icon id); unknown kinds use their own name for both
KIND_TABLE: dict[str, tuple[dict[str, str], str]] = {
    "shoe": ({"ko": "신발", "en": "Shoe"}, "shoe"),
    "handbag": ({"ko": "가방", "en": "Handbag"}, "handbag"),
    "cat": ({"ko": "고양이", "en": "Cat"}, "cat"),
    "panda": ({"ko": "판다", "en": "Panda"}, "panda"),
    "car": ({"ko": "자동차", "en": "Car"}, "car"),
    "face": ({"ko": "얼굴", "en": "Face"}, "face"),
    "character": ({"ko": "캐릭터", "en": "Character"}, "character"),
}
AVATARS = ("bear", "bunny", "cat", "dog", "fox", "lion", "owl", "panda", "penguin", "tiger")  # avatar icon ids
RECOGNIZER_NAME = "recognizer"  # model folder name of the doodle recognizer
# recognizer label -> the studio kinds a drawing of it may be, in order of preference; other labels name their own kind
LABEL_KINDS: dict[str, tuple[str, ...]] = {"face": ("face", "character")}  # a character drawing is a face drawing
SURPRISE_SIDE = 256  # side of a surprise picture sent to the page, px (small generators are enlarged smoothly)


@dataclass(frozen=True)
class KindInfo:
    kind: str
    label: dict[str, str]
    icon: str
    hints: bool  # the model takes crayon colours as hints
    model: str  # name of the model folder that draws it


@dataclass
class Models:
    """Everything loaded once per server: generators by kind, recognizer, sampler."""

    pipelines: dict[str, tuple[Any, str | None]] = field(default_factory=dict)  # kind -> (SketchToImage, label for run)
    recognizer: Any = None  # has .labels and .predict(lines, top) -> [(label, prob)]
    sampler: Any = None  # callable kind -> (H, W, 3) uint8 picture

    @property
    def kinds(self) -> list[KindInfo]:
        return [describe(kind, pipe) for kind, (pipe, _) in self.pipelines.items()]

    @property
    def known_labels(self) -> frozenset[str]:
        """Labels the recognizer names reliably enough to check a chosen kind (empty without a recognizer).

        Labels it learnt only from doodles drawn from photos (its model's ``meta.synthetic_labels``)
        are left out: it rarely names real drawings of those, so for them the child's chosen kind
        counts, as for a kind it does not know.
        """
        if self.recognizer is None:
            return frozenset()
        meta = getattr(getattr(self.recognizer, "info", None), "meta", None) or {}
        return frozenset(getattr(self.recognizer, "labels", ())) - frozenset(meta.get("synthetic_labels", ()))

    def kinds_of(self, label: str) -> list[str]:
        """The installed kinds a drawing the recognizer calls ``label`` may be (see LABEL_KINDS), best first."""
        return [k for k in LABEL_KINDS.get(label, (label,)) if k in self.pipelines]

    @property
    def preselect_min_prob(self) -> float | None:
        """Probability from which on the top guess may pick the studio's kind (the recognizer model's); None = never."""
        return getattr(self.recognizer, "preselect_min_prob", None)

    def guess(self, lines: np.ndarray, top: int = 3) -> list[Guessed]:
        """The recognizer's ``top`` guesses for a (H, W) uint8 drawing, most likely first; [] without a recognizer."""
        if self.recognizer is None:
            return []
        threshold = self.preselect_min_prob
        out = []
        for i, (label, prob) in enumerate(self.recognizer.predict(lines, top=top)):
            kinds = self.kinds_of(label)
            sure = i == 0 and bool(kinds) and threshold is not None and prob >= threshold
            out.append(Guessed(label, float(prob), kinds, sure))
        return out


@dataclass(frozen=True)
class Guessed:
    """One recognizer guess, as the studio uses it."""

    label: str  # recognizer label
    prob: float  # its probability, 0..1
    kinds: list[str]  # every installed kind it may be, best first (see LABEL_KINDS)
    preselect: bool  # the top guess, sure enough (>= the model's preselect_min_prob) for the studio to pick its kind

    @property
    def kind(self) -> str | None:
        """The installed kind it names first, None when no model draws it."""
        return self.kinds[0] if self.kinds else None


def describe(kind: str, pipe: Any) -> KindInfo:
    label, icon = KIND_TABLE.get(kind, ({"ko": kind, "en": kind}, kind))
    info = getattr(pipe, "info", None)
    model = info.path.name if info is not None and getattr(info, "path", None) else type(pipe).__name__
    return KindInfo(kind, dict(label), icon, bool(getattr(pipe, "hints", False)), model)


def _model_folders(extra_dirs: list[Path], method: str = "pix2pix") -> list[Path]:
    """Model folders: extra dirs first (a folder or a folder of folders), then the catalog's ``method`` models."""
    from icanvas.catalog import list_models

    found: list[Path] = []
    for d in extra_dirs:
        if (d / CONFIG_FILE).is_file():
            found.append(d)
        elif d.is_dir():
            found.extend(sub for sub in sorted(d.iterdir()) if (sub / CONFIG_FILE).is_file())
    found.extend(e.path for e in list_models() if e.method == method)
    return found


def _load_each(extra_dirs: list[Path], method: str, load: Any) -> list[tuple[Path, Any]]:
    """(folder, load(folder)) for every distinct ``method`` model folder; broken ones are logged and skipped."""
    loaded, seen = [], set()
    for folder in _model_folders(extra_dirs, method):
        if folder.resolve() in seen:
            continue
        seen.add(folder.resolve())
        try:
            if read_model_info(folder).method == method:
                loaded.append((folder, load(folder)))
        except ICanvasError as e:
            log.warning("Skipping model %s: %s", folder, e)
    return loaded


def load_pipelines(extra_dirs: list[Path] | None = None, backend: str = "auto") -> dict[str, tuple[Any, str | None]]:
    """Kind -> (SketchToImage, kind label) for every loadable pix2pix model."""
    from icanvas.pipelines.sketch_to_image import SketchToImage

    pipelines: dict[str, tuple[Any, str | None]] = {}
    for folder, pipe in _load_each(extra_dirs or [], "pix2pix", lambda f: SketchToImage.from_pretrained(f, backend=backend)):
        if pipe.kinds:
            served = [(k, k) for k in pipe.kinds]
        else:
            served = [(pipe.info.kinds[0] if pipe.info.kinds else folder.name, None)]
        for kind, label in served:
            if kind not in pipelines:
                pipelines[kind] = (pipe, label)
    known = list(KIND_TABLE)  # the page lists kinds in this order whichever model folders they come from
    return dict(sorted(pipelines.items(), key=lambda kv: known.index(kv[0]) if kv[0] in known else len(known)))


def load_recognizer(extra_dirs: list[Path] | None = None) -> Any:
    """The doodle recognizer, or None when its code or model is not installed."""
    try:
        from icanvas.pipelines.recognizer import Recognizer
    except ImportError:
        return None
    from icanvas.catalog import find_model

    candidates = [d / RECOGNIZER_NAME for d in (extra_dirs or [])]
    folder = next((c for c in candidates if (c / CONFIG_FILE).is_file()), None)
    try:
        folder = folder or find_model(RECOGNIZER_NAME)
        return Recognizer.from_pretrained(folder)
    except ICanvasError as e:
        log.info("No recognizer: %s", e)
        return None


class SurpriseSampler:
    """The studio's surprise pictures from every installed dcgan model: ``sampler(kind) -> (H, W, 3) uint8``.

    A kind one of the models makes picks that model; no kind picks a model at random.
    """

    def __init__(self, samplers: list[Any], side: int = SURPRISE_SIDE) -> None:
        self.samplers, self.side = samplers, side
        self.kinds = sorted({k for s in samplers for k in s.kinds})
        self._rng = np.random.default_rng()

    def __call__(self, kind: str | None = None) -> np.ndarray:
        import cv2

        choices = [s for s in self.samplers if kind in s.kinds] or self.samplers
        picture = choices[int(self._rng.integers(len(choices)))](kind)  # (S, S, 3) uint8
        if picture.shape[0] != self.side:
            picture = cv2.resize(picture, (self.side, self.side), interpolation=cv2.INTER_CUBIC)
        return picture


def load_sampler(extra_dirs: list[Path] | None = None) -> SurpriseSampler | None:
    """A :class:`SurpriseSampler` over every loadable dcgan model, or None when there is none."""
    from icanvas.pipelines.sampler import Sampler

    samplers = [s for _, s in _load_each(extra_dirs or [], "dcgan", Sampler.from_pretrained)]
    return SurpriseSampler(samplers) if samplers else None
