"""int8 generators: the ONNX model with 8-bit weights and activations (onnxruntime static quantisation).

Weights are quantised per output channel; activations per tensor, with ranges measured on
calibration inputs the caller hands in (drawings as the model sees them). onnxruntime quantises
plain convolutions but no transposed ones, so a generator's "resize" upsampling blocks are exported
in their sub-pixel form (:class:`~icanvas.models.layers.SubpixelUpsample`): a generator that
upsamples with transposed convs has no int8 form. The file is made once per weights (10-20 s on 2
cores, most of it measuring the ranges) and kept in the ONNX cache beside the float one.

``benchmarks/speed.py`` prints the speed and ``benchmarks/quality.py --backend int8`` the pictures'
metrics against the float model.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from torch import nn

from icanvas.checkpoint import ModelInfo
from icanvas.errors import CheckpointError
from icanvas.models.layers import has_resize_upsampling
from icanvas.runtime.onnx import cache_path, export_onnx

QUANT_VERSION = 2  # bump when the recipe below or the calibration inputs change: cached files are remade
QUANTISED_OPS = ["Conv"]  # only the convolutions: the class scale and shift, sums and joins stay float
# (closer to the float pictures, 33-38 -> 36-39 dB PSNR, and no slower: benchmarks/int8.py)
CALIBRATION_PERCENTILE = 99.999  # activation ranges cover this share of the calibration values (a few outliers are clipped;
# closer to the float pictures than the full min-max range: benchmarks/int8.py)

log = logging.getLogger("icanvas.runtime")

Feeds = list[dict[str, np.ndarray]]  # one model input per item: {"sketch": (1, C, S, S)[, "label": (1,)]}


def int8_available() -> bool:
    try:
        import onnxruntime.quantization  # noqa: F401
    except ImportError:
        return False
    return True


def int8_possible(generator: nn.Module) -> bool:
    """Whether ``generator`` has an int8 form here: its upsampling is "resize" and onnxruntime's
    quantisation tools are installed."""
    return has_resize_upsampling(generator) and int8_available()


def quantize_onnx(source: str | Path, feeds: Feeds, target: str | Path) -> Path:
    """Write the int8 form of the float ONNX model ``source`` to ``target``, with activation ranges
    measured on ``feeds``; returns ``target``."""
    from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.left = iter(feeds)

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.left, None)

    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp, _quiet():
        prepared, out = Path(tmp) / "prepared.onnx", Path(tmp) / "int8.onnx"
        quant_pre_process(str(source), str(prepared))  # shapes inferred and the graph simplified first
        quantize_static(str(prepared), str(out), Reader(), quant_format=QuantFormat.QOperator, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        calibrate_method=CalibrationMethod.Percentile, extra_options={"CalibPercentile": CALIBRATION_PERCENTILE},
                        op_types_to_quantize=QUANTISED_OPS)
        os.replace(out, target)  # written by onnx with the umask's permissions, like any file
    return target


class _FromQuantisation(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "onnxruntime" not in record.pathname


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Hide what onnxruntime's quantisation tools print (progress on stdout, warnings about the integer
    label inputs on the root logger): the studio's log and the CLI's output stay readable."""
    drop = _FromQuantisation()
    root = logging.getLogger()
    handlers = list(root.handlers)
    root.addFilter(drop)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        root.removeFilter(drop)
        for added in [h for h in root.handlers if h not in handlers]:  # logging.warning() there set up a handler:
            root.removeHandler(added)  # left, it would print every later log line a second time


def cached_int8(generator: nn.Module, info: ModelInfo, feeds: Callable[[], Feeds]) -> Path:
    """The model's int8 ONNX file, made once into the cache from the weights and the calibration
    inputs ``feeds()`` (asked for only when the file has to be made)."""
    if not int8_possible(generator):
        raise CheckpointError(f"{info.path} has no int8 form: its generator upsamples with transposed convolutions, "
                              "which onnxruntime does not quantise (or onnxruntime's quantisation tools are missing).",
                              "Use the float model (backend 'onnx').")
    target = cache_path(info, f"-int8v{QUANT_VERSION}")
    if target.is_file():
        return target
    started = time.monotonic()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        source = export_onnx(generator, info, Path(tmp) / "subpixel.onnx", upsampling="subpixel")
        quantize_onnx(source, feeds(), target)
    log.info("Made the int8 form of %s in %.1f s (once; kept in %s).", info.path.name, time.monotonic() - started, target.parent)
    return target
