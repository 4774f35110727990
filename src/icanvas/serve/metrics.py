"""What an operator watches: request counts and latencies per route, and the generation pool's
micro-batches, as Prometheus text (``GET /metrics``).

Routes are named by their template (``/api/album/{item_id}``), never by the path a client sent,
so the number of series stays small; paths that match no route count as ``other``. Nothing
personal is recorded.
"""

from __future__ import annotations

import threading
import time
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

METRICS_PATH = "/metrics"  # where Prometheus scrapes

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)  # seconds
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)  # drawings per model call


class Histogram:
    """Cumulative-bucket histogram with a sum and a count (Prometheus semantics)."""

    def __init__(self, buckets: tuple[float, ...]) -> None:
        self.buckets = buckets
        self.counts = [0] * (len(buckets) + 1)  # the last is +Inf
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.buckets, value)] += 1
        self.sum += value

    def lines(self, name: str, labels: str) -> list[str]:
        out, running = [], 0
        sep = "," if labels else ""
        for bound, count in zip([*map(_number, self.buckets), "+Inf"], self.counts):
            running += count
            out.append(f'{name}_bucket{{{labels}{sep}le="{bound}"}} {running}')
        brace = f"{{{labels}}}" if labels else ""
        return out + [f"{name}_sum{brace} {_number(self.sum)}", f"{name}_count{brace} {running}"]


class Metrics:
    """Thread-safe counters and histograms of one server process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, int], int] = defaultdict(int)  # (method, route, status) -> count
        self.latency: dict[str, Histogram] = {}  # route -> seconds
        self.batches = Histogram(BATCH_BUCKETS)  # drawings per generation call
        self.batch_seconds = Histogram(LATENCY_BUCKETS)  # seconds per generation call
        self.gauges: dict[str, tuple[str, Callable[[], float]]] = {}  # name -> (help, read)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(method, route, status)] += 1
            self.latency.setdefault(route, Histogram(LATENCY_BUCKETS)).observe(seconds)

    def observe_batch(self, size: int, seconds: float) -> None:
        with self._lock:
            self.batches.observe(size)
            self.batch_seconds.observe(seconds)

    def gauge(self, name: str, help_text: str, read: Callable[[], float]) -> None:
        """A value read when /metrics is asked for (e.g. the generation queue's length)."""
        self.gauges[name] = (help_text, read)

    def render(self) -> str:
        """Prometheus text exposition format 0.0.4."""
        with self._lock:
            lines = ["# HELP icanvas_http_requests_total HTTP requests answered, by method, route and status.",
                     "# TYPE icanvas_http_requests_total counter"]
            for (method, route, status), count in sorted(self.requests.items()):
                lines.append(f'icanvas_http_requests_total{{method="{method}",route="{_label(route)}",status="{status}"}} {count}')
            lines += ["# HELP icanvas_http_request_duration_seconds Time to answer a request, by route.",
                      "# TYPE icanvas_http_request_duration_seconds histogram"]
            for route, hist in sorted(self.latency.items()):
                lines += hist.lines("icanvas_http_request_duration_seconds", f'route="{_label(route)}"')
            lines += ["# HELP icanvas_generation_batch_size Drawings turned into pictures in one model call.",
                      "# TYPE icanvas_generation_batch_size histogram", *self.batches.lines("icanvas_generation_batch_size", ""),
                      "# HELP icanvas_generation_batch_seconds Time of one model call, decoding to pictures.",
                      "# TYPE icanvas_generation_batch_seconds histogram", *self.batch_seconds.lines("icanvas_generation_batch_seconds", "")]
        for name, (help_text, read) in sorted(self.gauges.items()):
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f"{name} {_number(float(read()))}"]
        return "\n".join(lines) + "\n"


class RequestMetrics:
    """ASGI middleware: counts every HTTP answer and its latency under its route's template."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            self.metrics.observe_request(scope.get("method", "?"), route_name(scope), status, time.perf_counter() - started)


def install_metrics(app: FastAPI, metrics: Metrics) -> None:
    """Count every answer (outermost middleware: add it after the others) and serve ``GET /metrics``."""
    app.add_middleware(RequestMetrics, metrics=metrics)

    @app.get(METRICS_PATH, include_in_schema=False)
    async def prometheus() -> PlainTextResponse:
        return PlainTextResponse(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")


def route_name(scope: Scope) -> str:
    """The template of the route that answered (set by routing), ``/static`` for files, else ``other``."""
    route, path = scope.get("route"), scope.get("path", "")
    template, regex = getattr(route, "path", None), getattr(route, "path_regex", None)
    if template and regex is not None:
        # a route of an included router knows only its own part (/generate): put back the
        # fixed prefix it was included under (/api), the part of the path before what it matched
        for i in [j for j, c in enumerate(path) if c == "/"]:
            if regex.match(path[i:]):
                return path[:i] + template
        return template
    if template:
        return template
    return "/static" if path.startswith("/static/") else "other"


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
