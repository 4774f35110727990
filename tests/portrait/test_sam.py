"""Stage 1 with SAM / MobileSAM: tiny weight-free ONNX models with SAM's encoder and decoder
signature, exported here with torch.onnx, check the preprocessing, the prompt transform, the
mask at the photo's size, the embedding cache and the errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from icanvas.errors import CheckpointError, MissingResourceError, PromptError
from icanvas.portrait.select import default_selector
from icanvas.portrait.stages import Point, Prompt
from tests.portrait.test_select import scene

RADIUS = 96.0  # px in SAM's 1024 frame: the tiny decoder's mask is a disk of this radius around the first point


class TinyEncoder(torch.nn.Module):
    def forward(self, image):  # (1, 3, 1024, 1024) -> (1, 256, 64, 64)
        return torch.nn.functional.avg_pool2d(image, 16).mean(1, keepdim=True).repeat(1, 256, 1, 1)


class TinyDecoder(torch.nn.Module):
    """SAM's decoder signature; masks (1, K, H, W) = a disk around the first point, upscaled like SAM's export."""

    def __init__(self, k: int = 1, empty: bool = False):
        super().__init__()
        self.k, self.empty = k, empty  # empty: every logit negative (the prompt selects nothing)

    def forward(self, image_embeddings, point_coords, point_labels, mask_input, has_mask_input, orig_im_size):
        grid = (torch.arange(256, dtype=torch.float32) + 0.5) * 4.0  # low-res cell centres in the 1024 frame
        gy, gx = torch.meshgrid(grid, grid, indexing="ij")
        p = point_coords[0, 0]
        low = RADIUS - torch.sqrt((gx - p[0]) ** 2 + (gy - p[1]) ** 2)
        used = 0.0 * (image_embeddings.mean() + point_labels.sum() + mask_input.mean() + has_mask_input.sum())
        low = (low * 0.0 - 10.0 if self.empty else low) + used
        low = low[None, None].repeat(1, self.k, 1, 1)  # (1, K, 256, 256)
        masks = torch.nn.functional.interpolate(low, size=(1024, 1024), mode="bilinear", align_corners=False)
        scale = 1024.0 / torch.max(orig_im_size)
        pre = torch.floor(orig_im_size * scale + 0.5).to(torch.int64)
        masks = masks[..., : pre[0], : pre[1]]
        size = orig_im_size.to(torch.int64)
        masks = torch.nn.functional.interpolate(masks, size=(size[0], size[1]), mode="bilinear", align_corners=False)
        scores = torch.arange(self.k, dtype=torch.float32)[None] + used
        return masks, scores, low


def export(module, args, names, path, axes=None):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, args, str(path), input_names=names, dynamic_axes=axes, opset_version=17, dynamo=False)
    return path


DEC_ARGS = (torch.zeros(1, 256, 64, 64), torch.zeros(1, 2, 2), torch.zeros(1, 2), torch.zeros(1, 1, 256, 256),
            torch.zeros(1), torch.tensor([200.0, 300.0]))
DEC_NAMES = ["image_embeddings", "point_coords", "point_labels", "mask_input", "has_mask_input", "orig_im_size"]
DEC_AXES = {"point_coords": {1: "points"}, "point_labels": {1: "points"}}  # as SAM's export: any number of points


@pytest.fixture(scope="module")
def sam_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("sam")
    enc = export(TinyEncoder(), (torch.zeros(1, 3, 1024, 1024),), ["image"], d / "encoder.onnx")
    dec = export(TinyDecoder(), DEC_ARGS, DEC_NAMES, d / "decoder.onnx", DEC_AXES)
    empty = export(TinyDecoder(empty=True), DEC_ARGS, DEC_NAMES, d / "empty.onnx", DEC_AXES)
    return enc, dec, empty


def test_sam_prompt_transform_and_mask_at_photo_size(sam_files):
    from icanvas.portrait.sam import SamSelector, preprocess, prompt_arrays

    enc, dec, _ = sam_files
    img, _, _ = scene(w=300, h=200)
    x = preprocess(img)
    assert x.shape == (1, 3, 1024, 1024) and x.dtype == np.float32
    assert np.all(x[0, :, 683:, :] == 0)  # 200 * 1024/300 = 683 rows of photo, the rest padding
    coords, labels = prompt_arrays(Prompt(points=(Point(150, 100), Point(10, 10, False))), img.shape)
    assert coords.shape == (1, 3, 2) and labels.tolist() == [[1.0, 0.0, -1.0]]
    assert np.allclose(coords[0, 0], [512.0, 100 * 683 / 200])
    coords, labels = prompt_arrays(Prompt(points=(Point(150, 100),), box=(30, 20, 270, 180)), img.shape)
    assert labels.tolist() == [[1.0, 2.0, 3.0]] and np.allclose(coords[0, 2], [270 * 1024 / 300, 180 * 683 / 200])

    selector = default_selector(sam_encoder=enc, sam_decoder=dec, threads=1)
    assert isinstance(selector, SamSelector)
    sel = selector.select(img, Prompt(points=(Point(220, 60),)))
    hard = sel.mask > 0.5
    assert sel.mask.shape == (200, 300) and sel.info["backend"] == "sam"
    ys, xs = np.nonzero(hard)
    r = RADIUS * 300 / 1024  # the disk's radius in photo px
    assert abs(xs.mean() - 220) < 3 and abs(ys.mean() - 60) < 3
    assert abs(np.sqrt(hard.sum() / np.pi) - r) < 3


def test_sam_reuses_the_embedding_of_the_same_photo(sam_files):
    enc, dec, _ = sam_files
    selector = default_selector(sam_encoder=enc, sam_decoder=dec, threads=1)
    runs = []
    real = selector.encoder

    class Counting:
        def run(self, *a, **k):
            runs.append(1)
            return real.run(*a, **k)

    selector.encoder = Counting()
    img, _, _ = scene()
    selector.select(img, Prompt(points=(Point(150, 200),)))
    selector.select(img, Prompt(points=(Point(150, 100),)))
    assert len(runs) == 1
    selector.select(img[:, ::-1].copy(), Prompt(points=(Point(150, 200),)))
    assert len(runs) == 2


def test_sam_best_of_several_masks():
    from icanvas.portrait.sam import best_mask

    masks_ = np.arange(4, dtype=np.float32)[None, :, None, None] * np.ones((1, 4, 2, 2), np.float32)
    scores = np.array([[0.9, 0.1, 0.8, 0.3]], np.float32)
    assert best_mask(masks_, scores, points=2)[0, 0] == 2.0  # one click + padding: best multi-mask output
    assert best_mask(masks_, scores, points=3)[0, 0] == 0.0  # more points: the single-mask output


def test_sam_errors(sam_files, tmp_path):
    from icanvas.portrait.sam import SamSelector

    enc, dec, empty = sam_files
    with pytest.raises(MissingResourceError, match="--sam-decoder"):
        default_selector(sam_encoder=enc)
    with pytest.raises(MissingResourceError, match="--sam-encoder"):
        default_selector(sam_encoder=tmp_path / "nope.onnx", sam_decoder=dec)
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model")
    with pytest.raises(CheckpointError):
        SamSelector(junk, dec)
    with pytest.raises(CheckpointError, match="not a SAM mask decoder"):
        SamSelector(enc, enc)
    img, _, _ = scene()
    with pytest.raises(PromptError, match="selects nothing"):
        SamSelector(enc, empty, threads=1).select(img, Prompt(points=(Point(150, 200),)))
