"""Stage 2: the hole is filled from its surroundings and nothing outside it changes."""

from __future__ import annotations

import numpy as np
import pytest

from icanvas.errors import CheckpointError, ConfigError, InputImageError, MissingResourceError
from icanvas.portrait.fill import LamaFiller, OpenCVFiller, fill_hole, hole_of, make_filler


def person_mask(h: int, w: int) -> np.ndarray:
    """(H, W) float32: a head and body, soft at the edge."""
    yy, xx = np.mgrid[:h, :w]
    head = ((xx - w / 2) / (0.1 * w)) ** 2 + ((yy - 0.3 * h) / (0.12 * h)) ** 2 < 1
    body = ((xx - w / 2) / (0.2 * w)) ** 2 + ((yy - 0.85 * h) / (0.4 * h)) ** 2 < 1
    m = (head | body).astype(np.float32)
    m[1:-1, 1:-1] = np.maximum(m[1:-1, 1:-1], 0.3 * (m[:-2, 1:-1] + m[2:, 1:-1]))  # a soft rim
    return np.clip(m, 0, 1)


def scene(h: int, w: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A textured photo with a red person on it, and the person's mask."""
    rng = np.random.default_rng(seed)
    photo = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    mask = person_mask(h, w)
    photo[mask > 0.1] = (220, 30, 30)
    return photo, mask


@pytest.mark.parametrize("filler", [OpenCVFiller(), OpenCVFiller("telea")], ids=["ns", "telea"])
def test_pixels_outside_the_grown_hole_are_unchanged(filler):
    photo, mask = scene(150, 200)
    out = filler.fill(photo, mask)
    hole, grow = hole_of(mask)
    assert out.shape == photo.shape and out.dtype == np.uint8 and grow >= 3
    assert np.array_equal(out[~hole], photo[~hole])
    assert hole[mask > 0.1].all() and hole.sum() > (mask > 0.1).sum()  # grown, never shrunk
    person = out[mask > 0.5].astype(int)
    assert np.abs(person - (220, 30, 30)).sum(axis=1).mean() > 100  # the red person is gone


@pytest.mark.parametrize("size", [(120, 160), (900, 1200)])  # the second is worked on at a reduced size
def test_a_uniform_background_stays_uniform(size):
    h, w = size
    photo = np.full((h, w, 3), (90, 140, 200), np.uint8)
    mask = person_mask(h, w)
    photo[mask > 0.1] = (250, 250, 0)
    out = OpenCVFiller().fill(photo, mask)
    diff = np.abs(out.astype(int) - (90, 140, 200))
    assert diff.max() <= 10 and diff[mask > 0.5].mean() < 4  # fast marching drifts by a few levels; the person was >100 away


def test_the_fill_follows_a_gradient():
    h, w = 200, 300
    ramp = np.linspace(0, 255, w, dtype=np.float32)
    truth = np.repeat(np.stack([ramp, 255 - ramp, np.full(w, 128, np.float32)], -1)[None], h, 0).round().astype(np.uint8)
    mask = person_mask(h, w)
    photo = truth.copy()
    photo[mask > 0.1] = 0
    out = OpenCVFiller().fill(photo, mask)
    err = np.abs(out.astype(int) - truth)[mask > 0.5].mean()
    assert err < 12  # grey levels; a black hole would be ~128 away


def test_an_empty_mask_changes_nothing_and_bad_masks_are_refused():
    photo, _ = scene(40, 50)
    out = OpenCVFiller().fill(photo, np.zeros((40, 50), np.float32))
    assert np.array_equal(out, photo) and out is not photo
    with pytest.raises(InputImageError, match="mask of shape"):
        OpenCVFiller().fill(photo, np.zeros((50, 40), np.float32))


def test_fill_hole_blends_only_into_the_hole_and_ramps_at_its_edge():
    photo = np.full((100, 100, 3), 100, np.uint8)
    mask = np.zeros((100, 100), np.float32)
    mask[30:70, 30:70] = 1
    out = fill_hole(photo, mask, lambda small, hole: np.full_like(small, 200), work_side=50)  # (50, 50) fill of 200
    hole, grow = hole_of(mask)
    assert np.array_equal(out[~hole], photo[~hole])
    assert (out[35:65, 35:65] == 200).all()  # the person's pixels are all fill
    edge = out[50, 30 - grow]  # the hole's outermost column: a blend of photo and fill
    assert 100 < edge[0] < 200 and out[50, 30 - grow - 1, 0] == 100


def test_make_filler_names():
    assert isinstance(make_filler("opencv"), OpenCVFiller)
    with pytest.raises(ConfigError, match="opencv"):
        make_filler("photoshop")
    with pytest.raises(ConfigError, match="Unknown OpenCV"):
        OpenCVFiller("fast")


def test_patchmatch_fills_or_says_what_to_install():
    photo, mask = scene(60, 80)
    try:
        filler = make_filler("patchmatch")
    except MissingResourceError as e:
        assert "icanvas[patchmatch]" in str(e) or "pypatchmatch" in str(e)
        return
    out = filler.fill(photo, mask)
    hole, _ = hole_of(mask)
    assert np.array_equal(out[~hole], photo[~hole])
    assert np.array_equal(out, filler.fill(photo, mask))  # seeded


# ----------------------------------------------------------------------------- LaMa


def tiny_lama(path, shape_ok: bool = True):
    """A TorchScript module with LaMa's call signature that fills the hole with grey and records its input size."""
    torch = pytest.importorskip("torch")

    class Tiny(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("seen", torch.zeros(2, dtype=torch.long))

        def forward(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            if image.shape[2] % 8 != 0 or image.shape[3] % 8 != 0:
                raise RuntimeError("input not padded to a multiple of 8")
            self.seen[0] = image.shape[2]
            self.seen[1] = image.shape[3]
            return image * (1 - mask) + 0.5 * mask

    class Wrong(torch.nn.Module):
        def forward(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            return image[:, :1]

    torch.jit.save(torch.jit.script(Tiny() if shape_ok else Wrong()), str(path))
    return path


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch.jit is deprecated; the released LaMa file is TorchScript
def test_lama_pads_to_a_multiple_of_8_and_crops_back(tmp_path):
    photo, mask = scene(75, 101)
    filler = make_filler(model=tiny_lama(tmp_path / "lama.pt"))
    out = filler.fill(photo, mask)
    assert tuple(filler.model.seen.tolist()) == (80, 104)
    assert out.shape == photo.shape
    hole, _ = hole_of(mask)
    assert np.array_equal(out[~hole], photo[~hole])
    assert (np.abs(out[mask > 0.5].astype(int) - 128) <= 1).all()  # the module's grey, pasted into the hole


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_lama_file_errors(tmp_path):
    with pytest.raises(MissingResourceError, match="--inpaint-model"):
        LamaFiller(tmp_path / "big-lama.pt")
    bad = tmp_path / "corrupt.pt"
    bad.write_bytes(b"PK\x03\x04 not a zip archive at all")
    with pytest.raises(CheckpointError, match="not a TorchScript archive"):
        LamaFiller(bad)
    photo, mask = scene(40, 40)
    with pytest.raises(CheckpointError, match="returned"):
        LamaFiller(tiny_lama(tmp_path / "wrong.pt", shape_ok=False)).fill(photo, mask)
    with pytest.raises(ConfigError, match="Give one of the two"):
        make_filler("patchmatch", tmp_path / "wrong.pt")
