"""GET /metrics: request counts and latencies by route, and the generation pool's batches, as Prometheus text."""

import re

from icanvas.serve.metrics import Histogram, Metrics
from tests.serve.conftest import drawing_png


def _value(text: str, series: str) -> float:
    found = re.search(rf"^{re.escape(series)} ([0-9.e+-]+)$", text, re.M)
    assert found, f"{series} not in /metrics"
    return float(found.group(1))


def test_metrics_count_requests_by_route_and_generation_batches(browser, client):
    api = browser()
    for _ in range(2):
        assert api.generate(drawing_png(), "cat").status_code == 200
    assert client.get("/api/no-such-thing").status_code == 404
    text = client.get("/metrics").text
    assert _value(text, 'icanvas_http_requests_total{method="POST",route="/api/generate",status="200"}') == 2
    assert _value(text, 'icanvas_http_requests_total{method="GET",route="other",status="404"}') >= 1
    assert _value(text, 'icanvas_http_request_duration_seconds_count{route="/api/generate"}') == 2
    assert _value(text, 'icanvas_http_request_duration_seconds_bucket{route="/api/generate",le="+Inf"}') == 2
    assert _value(text, "icanvas_generation_batch_size_count") == 2  # one model call per drawing here
    assert _value(text, "icanvas_generation_batch_size_sum") == 2
    assert _value(text, "icanvas_generation_queued") == 0
    assert "no-such-thing" not in text  # routes by template only: what a client typed never becomes a series


def test_histogram_buckets_are_cumulative():
    h = Histogram((1, 2, 4))
    for v in (1, 3, 3, 9):
        h.observe(v)
    lines = h.lines("x", 'k="v"')
    assert lines[:4] == ['x_bucket{k="v",le="1"} 1', 'x_bucket{k="v",le="2"} 1', 'x_bucket{k="v",le="4"} 3',
                         'x_bucket{k="v",le="+Inf"} 4']
    assert lines[4:] == ['x_sum{k="v"} 16', 'x_count{k="v"} 4']


def test_labels_are_escaped():
    m = Metrics()
    m.observe_request("GET", 'a"b', 200, 0.01)
    assert 'route="a\\"b"' in m.render()
