"""int8 generators: made once from made-up drawings, close to the float model, refused where impossible."""

from pathlib import Path

import numpy as np
import pytest
import torch

from icanvas.checkpoint import save_pretrained
from icanvas.config import UNetConfig
from icanvas.errors import CheckpointError, ICanvasError
from icanvas.models.unet import UNetGenerator
from icanvas.pipelines.calibration import CALIBRATION_DRAWINGS, calibration_drawings
from icanvas.pipelines.sketch_to_image import SketchToImage
from icanvas.runtime import quantize

KINDS = ["cat", "car"]


def _model(folder: Path, upsample: str) -> Path:
    torch.manual_seed(0)
    cfg = UNetConfig(image_size=32, ngf=8, max_channels=16, dropout=0.0, num_classes=len(KINDS), upsample=upsample, class_film=True)
    g = UNetGenerator(cfg)
    with torch.no_grad():  # trained-looking weights: the untrained init is near zero everywhere
        for p in g.parameters():
            if p.ndim > 1:
                p.normal_(0.0, 0.3)
    return save_pretrained(g, folder, method="pix2pix", config=cfg, meta={"kinds": KINDS})


def test_calibration_drawings_are_the_same_every_time_and_some_have_crayon():
    a, b = calibration_drawings(), calibration_drawings()
    assert len(a) == CALIBRATION_DRAWINGS
    assert all(np.array_equal(x.lines, y.lines) and np.array_equal(x.colors, y.colors) for x, y in zip(a, b))
    assert all((d.lines < 128).any() for d in a)  # every one has pencil lines
    assert 0 < sum(d.color_mask.any() for d in a) < len(a)  # some are coloured in, some are not


def test_int8_model_is_made_once_and_draws_close_to_the_float_one(tmp_path, monkeypatch):
    monkeypatch.setenv("ICANVAS_CACHE", str(tmp_path / "cache"))
    folder = _model(tmp_path / "resize", "resize")
    fp = SketchToImage.from_pretrained(folder, backend="onnx")
    q = SketchToImage.from_pretrained(folder, backend="int8")
    assert q.backend.name == "onnxruntime int8" and fp.backend.name == "onnxruntime"
    made = list((tmp_path / "cache" / "onnx").glob("*int8*.onnx"))
    assert len(made) == 1
    import onnx

    ops = {node.op_type for node in onnx.load(str(made[0])).graph.node}
    assert "QLinearConv" in ops and "ConvTranspose" not in ops  # every conv 8-bit, upsampling included
    assert not ops & {"QLinearAdd", "QLinearMul", "QLinearConcat"}  # the class scale and shift stay float

    calls = []
    monkeypatch.setattr(SketchToImage, "calibration_feeds", lambda self: calls.append(1) or [])
    again = SketchToImage.from_pretrained(folder, backend="int8")  # from the cache: no calibration
    assert calls == [] and again.backend.session is not None

    drawings = calibration_drawings(6, seed=5)
    a = np.stack([g.square for g in fp.run(drawings, ["cat", "car"] * 3)]).astype(np.float64)
    b = np.stack([g.square for g in q.run(drawings, ["cat", "car"] * 3)]).astype(np.float64)
    assert a.std() > 10  # the float model draws something, not a flat grey
    psnr = 10 * np.log10(255**2 / np.mean((a - b) ** 2))
    assert psnr > 25, psnr  # close, not equal: 8-bit weights and activations
    assert not np.array_equal(a, b)  # it is really another model


def test_transposed_conv_generators_have_no_int8_form(tmp_path, monkeypatch):
    monkeypatch.setenv("ICANVAS_CACHE", str(tmp_path / "cache"))
    folder = _model(tmp_path / "transpose", "transpose")
    with pytest.raises(CheckpointError, match="transposed convolutions") as info:
        SketchToImage.from_pretrained(folder, backend="int8")
    assert "onnx" in info.value.hint
    assert not quantize.int8_possible(UNetGenerator(UNetConfig(image_size=32, ngf=4, max_channels=8)))


def test_unknown_backend_is_refused(tmp_path):
    with pytest.raises(ICanvasError, match="Unknown backend") as info:
        SketchToImage.from_pretrained(tmp_path, backend="fp8")
    assert "int8" in info.value.hint


def test_onnxruntime_threads_sleep_between_calls(tmp_path, monkeypatch):
    monkeypatch.setenv("ICANVAS_CACHE", str(tmp_path / "cache"))
    pipe = SketchToImage.from_pretrained(_model(tmp_path / "m", "resize"), backend="onnx")
    options = pipe.backend.session.get_session_options()
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"


def test_making_the_int8_model_leaves_logging_and_stdout_alone(tmp_path, monkeypatch, capsys):
    import logging

    monkeypatch.setenv("ICANVAS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(logging.getLogger(), "handlers", [])  # as in a plain process (pytest adds its own here)
    before = list(logging.getLogger().handlers)
    SketchToImage.from_pretrained(_model(tmp_path / "m", "resize"), backend="int8")
    assert logging.getLogger().handlers == before  # else every later log line would print twice
    assert capsys.readouterr().out == ""  # onnxruntime's calibration progress is not printed
