"""Small runs of the studio's probes (benchmarks/fuzz.py, crash.py, abuse.py) against a real
``icanvas serve`` in a subprocess, on a temporary data folder and SQLite, talking to 127.0.0.1."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import abuse  # noqa: E402
import crash  # noqa: E402
import fuzz  # noqa: E402
import studio_probe as sp  # noqa: E402

pytestmark = pytest.mark.slow

MAX_GROWTH_MB = 1500  # the server's peak memory may grow by this much over all the hostile uploads, MB


@pytest.fixture(scope="module")
def studio():
    """One server for the fuzz and the abuse probe (each makes its own accounts)."""
    with sp.studio(prefix="icanvas-test-probes-") as s:
        yield s


def test_every_hostile_upload_kind_gets_an_answer_on_every_route(studio):
    s = studio
    routes = fuzz.routes_of(s.url, s.info)
    _, kid, _, _ = sp.family_with_child(s.url, s.info, "fuzz")
    n = len(fuzz.KINDS)  # each kind once, neighbouring kinds on the next route
    run = fuzz.fuzz(kid, routes, n, list(fuzz.KINDS), threads=2, pid=s.server.pid, max_seconds=120,
                    alive=s.server.alive, max_growth_mb=MAX_GROWTH_MB)
    kid.close()
    table = fuzz.report(run)
    assert {r.name for r in routes} >= {"POST /api/generate drawing", "POST /api/recognize drawing",
                                        "POST /api/creations drawing", "POST /api/creations picture"}
    assert len(run.results) == n and {r.route for r in run.results} == {r.name for r in routes}, table
    assert run.server_errors == 0 and run.dropped == 0 and not run.server_died, table
    assert not run.too_big, table
    assert any(r.outcome.startswith("2") for r in run.results) and any(r.outcome.startswith("4") for r in run.results), table


def test_killed_server_keeps_every_acknowledged_save_once_and_whole():
    with sp.studio(prefix="icanvas-test-crash-") as s:
        run = crash.crash(s, kills=3, threads=2, gap=(0.3, 0.8))
    table = crash.report(run)
    assert run.checks.acknowledged > 0 and run.tally.lost_answers > 0, table  # saves were in flight at the kills
    assert run.checks.lost == run.checks.corrupt == run.checks.duplicates == 0, table
    assert run.checks.orphans == run.checks.missing_files == run.checks.temp_files == 0, table
    assert run.checks.integrity == "ok", table


def test_no_wrongful_grant_no_forged_request_and_pin_tries_held(studio):
    rep = abuse.probe(studio.url, studio.info, {"matrix", "csrf", "races"}, race_n=8)
    text = abuse.render(rep)
    m = rep.matrix
    assert not m.unjudged, text
    assert not m.wrongful and not m.leaked, text
    assert all(t.granted for t in m.tries if t.expected and t.relation != "-"), text  # the rules' grants do work
    forged = [t for t in rep.csrf if t.variant != abuse.CONTROL]
    assert forged and not any(t.accepted for t in forged), text
    assert all(t.accepted for t in rep.csrf if t.variant == abuse.CONTROL), text  # each route took the viewer's own token
    pins = rep.races[0]
    assert pins.sent == 8 and pins.checked <= abuse.PIN_LIMIT and pins.answers["429"] >= 8 - abuse.PIN_LIMIT, text
