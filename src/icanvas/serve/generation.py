"""A bounded pool of worker threads that turn uploaded drawings into pictures, in micro-batches.

Requests go into a bounded queue (full -> :class:`Saturated`, which answers 503 with
Retry-After). A worker takes the oldest request, then waits up to ``window_ms`` for more that
use the same pipeline, up to ``max_batch``, and runs them as one ``SketchToImage.run`` call.
Decoding, normalising and PNG encoding happen off the event loop: a batch's uploads are decoded,
its model inputs prepared, its pictures finished and encoded by ``helpers`` threads side by side
(numpy, OpenCV and zlib let go of the GIL), so they use every core while the model call itself
keeps the batch whole.
"""

from __future__ import annotations

import asyncio
import logging
import math
import queue
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from icanvas.serve.images import PICTURE_MAX_SIDE, decode_drawing, png_bytes
from icanvas.serve.problems import Saturated, Unprocessable

__all__ = ["GenerationPool", "Saturated"]

log = logging.getLogger("icanvas.serve")
POLL_S = 0.2  # how often an idle worker checks whether the pool is closing, s
FIRST_BATCH_GUESS_S = 1.0  # assumed seconds per batch before one has been timed
EMA_WEIGHT = 0.2  # weight of the newest batch in the running batch-time average


class Pipeline(Protocol):
    """``each(fn, items)`` -> ``[fn(item) ...]``, given by the pool to spread per-drawing steps over threads."""

    def run(self, drawings: list, kinds: list[str | None] | None = None, each: Callable[[Callable, list], list] | None = None) -> list: ...


@dataclass
class _Job:
    data: bytes  # the uploaded file, still encoded
    kind: str  # studio kind asked for
    canvas: bool = False  # the studio's own canvas export: no page is looked for in it
    future: Future = field(default_factory=Future)  # resolves to PNG bytes


class GenerationPool:
    """``pipelines``: studio kind -> (pipeline, kind label passed to ``run`` or None)."""

    def __init__(
        self,
        pipelines: dict[str, tuple[Pipeline, str | None]],
        workers: int = 1,  # worker threads
        max_batch: int = 8,  # most requests in one pipeline call
        window_ms: float = 25.0,  # how long a worker waits for more requests to batch, ms
        max_queue: int = 64,  # waiting requests before submit raises Saturated
        max_queue_bytes: int = 64 * 2**20,  # encoded uploads held by waiting requests before submit raises Saturated, bytes
        *,
        max_bytes: int = 8 * 2**20,  # largest upload decoded, bytes
        max_pixels: int = 16_000_000,  # largest upload decoded, width * height
        max_side: int = PICTURE_MAX_SIDE,  # longest side of returned pictures, px
        on_batch: Callable[[int, float], None] | None = None,  # told (drawings, seconds) after each model call
        helpers: int = 2,  # threads that decode a batch's uploads and encode its pictures side by side
    ) -> None:
        if workers < 1 or max_batch < 1 or max_queue < 1 or helpers < 1 or window_ms < 0:
            raise ValueError("workers, max_batch, max_queue and helpers must be >= 1 and window_ms >= 0")
        self.pipelines = dict(pipelines)
        self.workers, self.max_batch, self.window = workers, max_batch, window_ms / 1000.0
        self.max_bytes, self.max_pixels, self.max_side = max_bytes, max_pixels, max_side
        self._queue: queue.Queue[_Job | None] = queue.Queue(maxsize=max_queue)  # None wakes a worker to stop
        self.max_queue_bytes, self._queued_bytes = max_queue_bytes, 0  # uploads held until their job is done
        self._bytes_lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._batch_s = FIRST_BATCH_GUESS_S
        self.batch_sizes: deque[int] = deque(maxlen=1000)  # sizes of recent batches, for tests and tuning
        self.on_batch = on_batch
        self.helper_threads = helpers
        self._helpers: ThreadPoolExecutor | None = None  # made at start

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> GenerationPool:
        if not self._threads:
            self._stop.clear()
            self._helpers = ThreadPoolExecutor(self.helper_threads, thread_name_prefix="icanvas-helper")
            for i in range(self.workers):
                t = threading.Thread(target=self._work, name=f"icanvas-generate-{i}", daemon=True)
                t.start()
                self._threads.append(t)
        return self

    def close(self, timeout: float = 10.0) -> None:
        """Stop the workers; requests still waiting fail with Saturated."""
        self._stop.set()
        for _ in self._threads:  # wake idle workers at once
            try:
                self._queue.put_nowait(None)
            except queue.Full:
                break  # busy workers notice the stop after their batch
        for t in self._threads:
            t.join(timeout)
        self._threads.clear()
        if self._helpers is not None:
            self._helpers.shutdown(wait=False, cancel_futures=True)
            self._helpers = None
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is not None and job.future.set_running_or_notify_cancel():
                job.future.set_exception(Saturated(self.retry_after()))

    def __enter__(self) -> GenerationPool:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ------------------------------------------------------------------ requests

    @property
    def queued(self) -> int:
        """Requests waiting for a worker."""
        return self._queue.qsize()

    def retry_after(self) -> int:
        """Seconds a client should wait before trying again, from the queue length and batch time."""
        rounds = self._queue.qsize() / (self.max_batch * self.workers) + 1
        return max(1, math.ceil(rounds * self._batch_s))

    def submit(self, data: bytes, kind: str, canvas: bool = False) -> Future:
        """Queue one drawing (``canvas``: the studio's own export); the future gives PNG bytes or raises a typed problem."""
        if kind not in self.pipelines:
            known = ", ".join(sorted(self.pipelines)) or "none installed"
            raise Unprocessable(f"The studio cannot draw {kind!r}.", f"Pick one of: {known}.")
        if self._stop.is_set():
            raise Saturated(self.retry_after())
        job = _Job(data, kind, canvas)
        with self._bytes_lock:
            if self._queued_bytes and self._queued_bytes + len(data) > self.max_queue_bytes:
                raise Saturated(self.retry_after())
            self._queued_bytes += len(data)
        job.future.add_done_callback(lambda _: self._release(len(data)))
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            job.future.cancel()  # gives its bytes back
            raise Saturated(self.retry_after()) from None
        return job.future

    def _release(self, nbytes: int) -> None:
        with self._bytes_lock:
            self._queued_bytes -= nbytes

    async def generate(self, data: bytes, kind: str, canvas: bool = False) -> bytes:
        """Awaitable :meth:`submit` for async routes."""
        return await asyncio.wrap_future(self.submit(data, kind, canvas))

    # ------------------------------------------------------------------ workers

    def _work(self) -> None:
        pending: deque[_Job] = deque()  # taken from the queue while filling a batch of another pipeline
        while not self._stop.is_set():
            if pending:
                first = pending.popleft()
            else:
                try:
                    first = self._queue.get(timeout=POLL_S)
                except queue.Empty:
                    continue
                if first is None:  # wake-up from close()
                    continue
            pipe = self.pipelines[first.kind][0]
            batch = [first]
            for job in list(pending):
                if len(batch) < self.max_batch and self.pipelines[job.kind][0] is pipe:
                    pending.remove(job)
                    batch.append(job)
            deadline = time.monotonic() + self.window
            while len(batch) < self.max_batch:
                left = deadline - time.monotonic()
                try:
                    job = self._queue.get(timeout=left) if left > 0 else self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is None:  # wake-up from close()
                    break
                (batch if self.pipelines[job.kind][0] is pipe else pending).append(job)
            self._run(pipe, batch)
        for job in pending:
            if job.future.set_running_or_notify_cancel():
                job.future.set_exception(Saturated(self.retry_after()))

    def _run(self, pipe: Pipeline, batch: list[_Job]) -> None:
        live = [j for j in batch if j.future.set_running_or_notify_cancel()]  # skip requests whose client left
        ready, drawings = [], []
        for job, drawing in zip(live, self._side_by_side(self._decode, live)):
            if isinstance(drawing, Exception):  # a typed problem for this request only
                job.future.set_exception(drawing)
            else:
                ready.append(job)
                drawings.append(drawing)
        if not ready:
            return
        started = time.monotonic()
        try:
            results = pipe.run(drawings, [self.pipelines[j.kind][1] for j in ready], self._each)
        except Exception as e:
            log.exception("Generation failed for a batch of %d", len(ready))
            for job in ready:
                job.future.set_exception(e)
            return
        took = time.monotonic() - started
        self.batch_sizes.append(len(ready))
        self._batch_s = (1 - EMA_WEIGHT) * self._batch_s + EMA_WEIGHT * took
        if self.on_batch is not None:
            self.on_batch(len(ready), took)
        for job, png in zip(ready, self._side_by_side(lambda r: png_bytes(r.image, self.max_side), results)):
            if isinstance(png, Exception):
                job.future.set_exception(png)
            else:
                job.future.set_result(png)

    def _decode(self, job: _Job) -> Any:
        return decode_drawing(job.data, self.max_bytes, self.max_pixels, canvas=job.canvas)[1]

    def _each(self, fn: Callable[[Any], Any], items: list) -> list:
        """``[fn(item) ...]`` on the helper threads, side by side; raises the first item's error."""
        helpers = self._helpers
        if helpers is not None and len(items) > 1:
            try:
                futures = [helpers.submit(fn, item) for item in items]
            except RuntimeError:  # the pool closed meanwhile: finish this batch here
                pass
            else:
                return [f.result() for f in futures]
        return [fn(item) for item in items]

    def _side_by_side(self, fn: Callable[[Any], Any], items: list) -> list:
        """Like :meth:`_each`, but an item whose call raised gets its exception instead of a result."""
        def safe(item: Any) -> Any:
            try:
                return fn(item)
            except Exception as e:  # returned, to fail that request only
                return e
        return self._each(safe, items)
