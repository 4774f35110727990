"""The studio's missions: what a mission is, the rules that complete one, loading them from
``missions.yaml`` and choosing the mission of the day.

Missions are data (``missions.yaml`` next to this file): each names one of the rules in
:data:`RULES` with its parameters, so a new mission of an existing rule needs no code. A rule
is a small function registered with :func:`rule`; it reads a
:class:`~icanvas.serve.game.Situation` (the new creation and a summary of the earlier ones).
A mission completes at most once per day (rules of period ``"week"``: once per ISO week).
:mod:`icanvas.serve.game` hands out the stars.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from icanvas.errors import ConfigError

if TYPE_CHECKING:
    from icanvas.serve.game import Situation

MAX_MISSION_STARS = 20  # largest `stars` a mission may pay
MISSIONS_FILE = Path(__file__).with_name("missions.yaml")  # the shipped missions

_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")  # mission ids: lower-case letters, digits and dashes
_FIELDS = ("id", "title", "icon", "rule", "params", "stars", "daily")
_LANGUAGES = ("ko", "en")


@dataclass(frozen=True)
class Mission:
    id: str
    title: dict[str, str]  # language -> title, "ko" and "en" always present
    icon: str  # icon id the frontend draws
    rule: str  # a key of RULES
    params: dict[str, Any]  # the rule's parameters, checked by load_missions
    stars: int  # stars paid on completion
    daily: bool  # may be chosen as the mission of the day


# ----------------------------------------------------------------------------- rules


ParamCheck = Callable[[Any], str | None]  # returns what is wrong with a value, None when fine


@dataclass(frozen=True)
class Rule:
    name: str
    params: dict[str, ParamCheck]  # parameter name -> check
    period: str  # "day" or "week": a mission of this rule completes at most once per period
    done: Callable[[dict[str, Any], Situation], bool]


RULES: dict[str, Rule] = {}  # rule name -> Rule


def rule(name: str, period: str = "day", **params: ParamCheck) -> Callable:
    """Register a mission rule; ``params`` maps each parameter to its check."""

    def register(fn: Callable[[dict[str, Any], Situation], bool]) -> Callable:
        RULES[name] = Rule(name, params, period, fn)
        return fn

    return register


def _text(v: Any) -> str | None:
    return None if isinstance(v, str) and v.strip() else "must be a non-empty text"


def _count(v: Any) -> str | None:
    return None if isinstance(v, int) and not isinstance(v, bool) and v >= 1 else "must be a whole number >= 1"


def _seconds(v: Any) -> str | None:
    ok = isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v < 3600
    return None if ok else "must be a number of seconds between 0 and 3600"


@rule("draw_kind", kind=_text)
def _draw_kind(p: dict[str, Any], s: Situation) -> bool:
    return p["kind"] in s.kinds(s.new)


@rule("draw_kind_timed", kind=_text, seconds=_seconds)
def _draw_kind_timed(p: dict[str, Any], s: Situation) -> bool:
    # 0 s: no time was measured (a drawing brought in as a photo of paper), so it cannot beat the clock
    return p["kind"] in s.kinds(s.new) and 0 < s.new.seconds <= p["seconds"]


@rule("use_colours", count=_count)
def _use_colours(p: dict[str, Any], s: Situation) -> bool:
    return s.new.colours >= p["count"]


@rule("distinct_kinds_week", period="week", count=_count)
def _distinct_kinds_week(p: dict[str, Any], s: Situation) -> bool:
    return len(s.kinds(s.new) | s.things(s.past.drawn_this_week)) >= p["count"]


@rule("drawings_today", count=_count)
def _drawings_today(p: dict[str, Any], s: Situation) -> bool:
    return 1 + s.past.drawings_today >= p["count"]


# ----------------------------------------------------------------------------- loading


def _bad(where: str, key: str, msg: str, path: Path) -> ConfigError:
    return ConfigError(
        f"Mission {where} in {path}: field '{key}' {msg}.",
        f"Each mission needs {', '.join(_FIELDS)}; rules: {', '.join(sorted(RULES))}. Fix the file and restart.",
    )


def _mission(raw: Any, index: int, path: Path) -> Mission:
    where = f"#{index + 1}"
    if not isinstance(raw, dict):
        raise _bad(where, "-", "must be a mapping of fields", path)
    if _text(raw.get("id")) is None:
        where = repr(raw["id"])
    for key in _FIELDS:
        if key not in raw:
            raise _bad(where, key, "is missing", path)
    extra = sorted(set(raw) - set(_FIELDS))
    if extra:
        raise _bad(where, str(extra[0]), "is not a mission field", path)
    mid, title, rule_name, params, stars = raw["id"], raw["title"], raw["rule"], raw["params"], raw["stars"]
    for key, ok, msg in (
        ("id", isinstance(mid, str) and _ID.match(mid), "must use only lower-case letters, digits and dashes"),
        ("title", isinstance(title, dict) and not any(_text(title.get(lang)) for lang in _LANGUAGES), "must give a text for ko and en"),
        ("icon", not _text(raw["icon"]), "must be a non-empty icon id"),
        ("rule", isinstance(rule_name, str) and rule_name in RULES, f"{rule_name!r} is not a known rule"),
        ("params", isinstance(params, dict), "must be a mapping"),
        ("stars", _count(stars) is None and stars <= MAX_MISSION_STARS, f"must be a whole number 1 to {MAX_MISSION_STARS}"),
        ("daily", isinstance(raw["daily"], bool), f"must be true or false, got {raw['daily']!r}"),
    ):
        if not ok:
            raise _bad(where, key, msg, path)
    spec = RULES[rule_name].params
    for name, check in spec.items():
        if name not in params:
            raise _bad(where, f"params.{name}", f"is missing (rule {rule_name} needs {', '.join(spec)})", path)
        problem = check(params[name])
        if problem:
            raise _bad(where, f"params.{name}", f"{problem}, got {params[name]!r}", path)
    extra = sorted(set(params) - set(spec))
    if extra:
        raise _bad(where, f"params.{extra[0]}", f"is not a parameter of rule {rule_name}", path)
    return Mission(mid, {k: str(v) for k, v in title.items()}, raw["icon"], rule_name, dict(params), stars, raw["daily"])


def load_missions(path: Path | None = None) -> list[Mission]:
    """Missions from a YAML file (default: the shipped ``missions.yaml``), checked field by field.

    The file holds ``missions:``, a list of mappings with the fields of :class:`Mission`.
    Raises ConfigError naming the mission and field on any problem.
    """
    path = Path(path) if path is not None else MISSIONS_FILE
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"Cannot read the missions file {path}: {e.strerror}.", "Check the path.") from e
    except yaml.YAMLError as e:
        raise ConfigError(f"The missions file {path} is not valid YAML: {e}.", "Fix the YAML syntax.") from e
    if not isinstance(raw, dict) or not isinstance(raw.get("missions"), list) or not raw["missions"]:
        raise ConfigError(f"The missions file {path} has no 'missions:' list.", "Start it with 'missions:' and one mapping per mission.")
    missions: list[Mission] = []
    for i, entry in enumerate(raw["missions"]):
        m = _mission(entry, i, path)
        if any(other.id == m.id for other in missions):
            raise _bad(repr(m.id), "id", "is used by an earlier mission too", path)
        missions.append(m)
    if not any(m.daily for m in missions):
        raise ConfigError(f"No mission in {path} has 'daily: true'.", "Mark at least one mission as daily (the mission of the day).")
    return missions


# ----------------------------------------------------------------------------- daily mission


def _rank(child_id: int, salt: int, mission_id: str) -> bytes:
    return hashlib.sha256(f"{child_id}:{salt}:{mission_id}".encode()).digest()


def daily_mission(missions: Sequence[Mission], child_id: int, day: date) -> Mission:
    """The mission of the day for one child: the same for the same (child, day), chosen among
    daily missions. Each run of N days (N = number of daily missions) shows every daily
    mission once in a per-child shuffled order, and two days in a row never repeat one."""
    daily = sorted({m.id: m for m in missions if m.daily}.values(), key=lambda m: m.id)
    if not daily:
        raise ConfigError("There is no daily mission to choose from.", "Mark at least one mission with 'daily: true'.")
    n = len(daily)
    if n <= 2:
        return daily[(day.toordinal() + int.from_bytes(_rank(child_id, 0, "")[:4], "big")) % n]
    cycle, pos = divmod(day.toordinal(), n)

    def order(c: int) -> list[Mission]:
        return sorted(daily, key=lambda m: _rank(child_id, c, m.id))

    this = order(cycle)
    if this[0].id == order(cycle - 1)[-1].id:  # the day before was the last of the previous run
        this[0], this[1] = this[1], this[0]
    return this[pos]
