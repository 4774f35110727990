"""The generation pool: micro-batches per pipeline, bounded queue, per-request errors, shutdown."""

from __future__ import annotations

import asyncio
import io
import threading
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from icanvas.serve.generation import GenerationPool, Saturated
from icanvas.serve.problems import UnsupportedImage, Unprocessable
from tests.serve.conftest import blank_png, drawing_png


class Recording:
    """A fake pipeline that paints each picture in its own grey and records every call."""

    def __init__(self, grey: int) -> None:
        self.grey, self.calls, self.thread = grey, [], None

    def run(self, drawings, kinds=None, each=None):
        self.calls.append((len(drawings), list(kinds)))
        self.thread = threading.current_thread().name
        self.helpers = each(lambda _: threading.current_thread().name, drawings)  # per-drawing steps go through each
        for d in drawings:
            assert d.lines.dtype == np.uint8 and d.lines.ndim == 2  # decoded and normalised before the call
        return [SimpleNamespace(image=np.full((8, 8, 3), self.grey, np.uint8)) for _ in drawings]


def _grey(png: bytes) -> int:
    return int(np.asarray(Image.open(io.BytesIO(png)))[0, 0, 0])


def test_requests_waiting_together_run_as_one_batch():
    pipe = Recording(10)
    pool = GenerationPool({"cat": (pipe, "cat"), "dog": (pipe, "dog")}, workers=1, max_batch=8, window_ms=0)
    futures = [pool.submit(drawing_png(seed=i), "cat" if i % 2 else "dog") for i in range(5)]
    with pool:  # the worker starts with all five waiting
        results = [f.result(10) for f in futures]
    assert [_grey(r) for r in results] == [10] * 5
    assert pipe.calls == [(5, ["dog", "cat", "dog", "cat", "dog"])]  # one model call, each request's own kind label
    assert list(pool.batch_sizes) == [5] and pipe.thread.startswith("icanvas-generate")


def test_batches_are_capped_and_never_mix_pipelines():
    a, b = Recording(10), Recording(20)
    pool = GenerationPool({"a": (a, None), "b": (b, None)}, workers=1, max_batch=2, window_ms=0)
    order = ["a", "b", "a", "a", "b"]
    futures = [pool.submit(drawing_png(seed=i), k) for i, k in enumerate(order)]
    with pool:
        greys = [_grey(f.result(10)) for f in futures]
    assert greys == [10 if k == "a" else 20 for k in order]
    assert sum(n for n, _ in a.calls) == 3 and sum(n for n, _ in b.calls) == 2
    assert max(pool.batch_sizes) <= 2
    assert all(kinds == [None] * n for n, kinds in a.calls + b.calls)


def test_full_queue_raises_saturated():
    pool = GenerationPool({"cat": (Recording(1), None)}, max_queue=2)
    pool.submit(drawing_png(), "cat")
    pool.submit(drawing_png(), "cat")
    with pytest.raises(Saturated) as info:
        pool.submit(drawing_png(), "cat")
    assert info.value.status == 503 and int(info.value.headers["Retry-After"]) >= 1
    pool.close()


def test_a_bad_upload_fails_alone():
    pipe = Recording(7)
    pool = GenerationPool({"cat": (pipe, None)}, max_batch=8, window_ms=0)
    good, junk, empty = (pool.submit(data, "cat") for data in (drawing_png(), b"not an image", blank_png()))
    with pool:
        assert _grey(good.result(10)) == 7
        with pytest.raises(UnsupportedImage):
            junk.result(10)
        with pytest.raises(Unprocessable):
            empty.result(10)
    assert pipe.calls == [(1, [None])]


def test_unknown_kind_and_cancelled_requests():
    pipe = Recording(3)
    pool = GenerationPool({"cat": (pipe, None)}, window_ms=0)
    with pytest.raises(Unprocessable, match="cannot draw"):
        pool.submit(drawing_png(), "dragon")
    gone = pool.submit(drawing_png(seed=1), "cat")
    kept = pool.submit(drawing_png(seed=2), "cat")
    assert gone.cancel()  # the client left before a worker took it
    with pool:
        assert _grey(kept.result(10)) == 3
    assert pipe.calls == [(1, [None])]


def test_pipeline_errors_reach_every_request_of_the_batch():
    class Broken:
        def run(self, drawings, kinds=None, each=None):
            raise RuntimeError("model exploded")

    pool = GenerationPool({"cat": (Broken(), None)}, window_ms=0)
    futures = [pool.submit(drawing_png(), "cat") for _ in range(2)]
    with pool:
        for f in futures:
            with pytest.raises(RuntimeError, match="exploded"):
                f.result(10)


def test_generate_is_awaitable_and_close_fails_leftovers():
    pool = GenerationPool({"cat": (Recording(9), None)}, window_ms=0).start()
    assert _grey(asyncio.run(pool.generate(drawing_png(), "cat"))) == 9
    pool.close()
    with pytest.raises(Saturated):
        pool.submit(drawing_png(), "cat")
    idle = GenerationPool({"cat": (Recording(9), None)})
    waiting = idle.submit(drawing_png(), "cat")
    idle.close()
    with pytest.raises(Saturated):
        waiting.result(1)


def test_real_tiny_model_in_a_batch(tiny_pipe):
    pool = GenerationPool({"cat": (tiny_pipe, "cat"), "shoe": (tiny_pipe, "shoe")}, max_batch=4, window_ms=0)
    futures = [pool.submit(drawing_png(size=256, seed=i), k) for i, k in enumerate(["cat", "shoe", "cat"])]
    with pool:
        pictures = [np.asarray(Image.open(io.BytesIO(f.result(30)))) for f in futures]
    assert list(pool.batch_sizes) == [3]
    assert all(p.shape == (256, 256, 3) and p.dtype == np.uint8 for p in pictures)
    alone = tiny_pipe(drawing_png(size=256, seed=1), kind="shoe").image
    assert np.abs(pictures[1].astype(int) - alone.astype(int)).max() <= 1  # batching does not change a picture


def test_waiting_uploads_are_capped_in_bytes_and_given_back():
    pipe = Recording(10)
    data = drawing_png(seed=0)
    pool = GenerationPool({"cat": (pipe, None)}, workers=1, max_queue=64, max_queue_bytes=2 * len(data) + 10, window_ms=0)
    first, second = pool.submit(data, "cat"), pool.submit(data, "cat")
    with pytest.raises(Saturated):  # a third would hold more bytes than allowed
        pool.submit(data, "cat")
    with pool:
        assert _grey(first.result(10)) == 10 and _grey(second.result(10)) == 10
        assert _grey(pool.submit(data, "cat").result(10)) == 10  # done requests gave their bytes back
    alone = GenerationPool({"cat": (pipe, None)}, max_queue_bytes=10)
    alone.submit(data, "cat").cancel()  # an empty queue takes one upload of any allowed size
    alone.submit(data, "cat").cancel()  # the cancelled one gave its bytes back


def test_decoding_preparing_and_encoding_run_on_helper_threads(monkeypatch):
    import icanvas.serve.generation as generation

    pipe, encoded_on = Recording(5), []
    real_png = generation.png_bytes
    monkeypatch.setattr(generation, "png_bytes", lambda *a, **k: encoded_on.append(threading.current_thread().name) or real_png(*a, **k))
    pool = GenerationPool({"cat": (pipe, None)}, max_batch=4, window_ms=0, helpers=2)
    futures = [pool.submit(drawing_png(seed=i), "cat") for i in range(4)]
    with pool:
        assert all(_grey(f.result(10)) == 5 for f in futures)
    assert pipe.calls == [(4, [None] * 4)]
    assert all(name.startswith("icanvas-helper") for name in pipe.helpers + encoded_on)
    with pytest.raises(ValueError, match="helpers"):
        GenerationPool({"cat": (pipe, None)}, helpers=0)
