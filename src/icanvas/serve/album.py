"""A child's album and game state in the database: saving creations with their rewards,
deleting creations and profiles with their files, and exporting a profile as a zip.

Saving runs the game rules (:func:`icanvas.serve.game.evaluate`) on a :class:`~icanvas.serve.game.Summary`
of the child's past, read as counts, distinct values and short windows (this week, the current
streak), so the rows a save reads do not grow with the album. It writes the creation,
its star events, completed missions and new badges in one transaction. Files are written
before the commit; when the save fails in any way, the files it wrote are deleted again.

A save may carry an idempotency key (the page's name for one save): a retry with the same key
answers the creation saved the first time, with the same rewards, read back from the ledger.
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import IO

from sqlalchemy import and_, case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement, FunctionElement
from sqlalchemy.types import Date

from icanvas.serve import game
from icanvas.serve.schemas import CreationOut
from icanvas.serve.storage import FileStore
from icanvas.serve.tables import BadgeEarned, Child, Creation, MissionDone, StarEvent, utcnow

EXPORT_SPOOL_BYTES = 32 * 2**20  # exports larger than this are spooled to a temporary file, bytes
SAVE_TRIES = 3  # a save whose mission or badge another save of the child won meanwhile runs the rules this often
STREAK_WINDOW_DAYS = 32  # days of creations read for the streak at first; widened (x4) while the streak fills them
DAILY_BONUS = "daily_bonus:"  # ledger reason prefix of a completed mission of the day (see icanvas.serve.game)


def creation_out(c: Creation) -> CreationOut:
    base = f"/api/creations/{c.id}"
    return CreationOut(id=c.id, child_id=c.child_id, kind=c.kind, recognized=c.recognized, favourite=c.favourite,
                       created_at=c.created_at, drawing_url=f"{base}/drawing.png",
                       picture_url=f"{base}/picture.png" if c.picture_key else None)


def stars_of(db: Session, child_ids: Iterable[int]) -> dict[int, int]:
    """Child id -> stars (sum of the ledger), 0 for children without events."""
    ids = list(child_ids)
    rows = db.execute(select(StarEvent.child_id, func.coalesce(func.sum(StarEvent.stars), 0))
                      .where(StarEvent.child_id.in_(ids)).group_by(StarEvent.child_id)).all() if ids else []
    found = {cid: int(total) for cid, total in rows}
    return {cid: found.get(cid, 0) for cid in ids}


# ----------------------------------------------------------------------------- the past, summarized


class utc_day(FunctionElement):
    """The UTC calendar date of a :class:`~icanvas.serve.tables.UTCDateTime` column."""

    type = Date()
    inherit_cache = True


@compiles(utc_day)
def _utc_day_sqlite(element, compiler, **kw) -> str:  # SQLite keeps naive UTC text, 'YYYY-MM-DD HH:MM:SS...'
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(utc_day, "postgresql")
def _utc_day_postgres(element, compiler, **kw) -> str:
    return f"CAST(({compiler.process(element.clauses, **kw)} AT TIME ZONE 'UTC') AS DATE)"


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=timezone.utc)


def _between(first: date, days: int) -> ColumnElement[bool]:
    """Creations made on ``first`` or on the ``days - 1`` days after it (UTC)."""
    return and_(Creation.created_at >= _midnight(first), Creation.created_at < _midnight(first + timedelta(days=days)))


def _streak_days(db: Session, child_id: int, today: date) -> frozenset[date]:
    """Days with a creation in a window ending today that holds the whole current streak and the gap before it."""
    window = STREAK_WINDOW_DAYS
    while True:
        first = today - timedelta(days=window - 1)
        found = db.scalars(select(utc_day(Creation.created_at)).where(Creation.child_id == child_id, _between(first, window))
                           .distinct())
        days = frozenset(d if isinstance(d, date) else date.fromisoformat(d) for d in found)
        if game.streak_length(set(days) | {today}, today) < window:
            return days
        window *= 4


def _drawn(db: Session, *where: ColumnElement[bool]) -> game.Drawn:
    """The distinct kinds and labels of the creations that match ``where``."""
    def distinct(column) -> frozenset[str]:
        return frozenset(db.scalars(select(column).where(*where, column.is_not(None)).distinct()))

    return game.Drawn(distinct(Creation.kind), distinct(Creation.recognized))


def history_of(db: Session, child_id: int, today: date | None = None) -> game.Summary:
    """What the game rules need to know about a child's past, taken on ``today`` (default: now, UTC).

    About ten queries whose answers are counts, distinct values or short windows, so the rows read
    do not grow with the album (the streak's window grows with the streak, a day a day at most);
    the database still counts and sums over the child's rows.
    """
    today = today or game.day_of(utcnow())
    monday = game.week_start(today)
    mine = Creation.child_id == child_id
    count, max_colours, today_count = db.execute(select(
        func.count(), func.max(Creation.colours), func.coalesce(func.sum(case((_between(today, 1), 1), else_=0)), 0),
    ).where(mine)).one()
    stars, daily = db.execute(select(
        func.coalesce(func.sum(StarEvent.stars), 0),
        func.coalesce(func.sum(case((StarEvent.reason.startswith(DAILY_BONUS, autoescape=True), 1), else_=0)), 0),
    ).where(StarEvent.child_id == child_id)).one()
    done = MissionDone.child_id == child_id
    return game.Summary(
        today=today,
        creations=count,
        max_colours=max_colours,
        drawn=_drawn(db, mine),
        drawn_this_week=_drawn(db, mine, _between(monday, 7)),
        drawings_today=int(today_count),
        days=_streak_days(db, child_id, today),
        missions_done=frozenset(tuple(row) for row in db.execute(
            select(MissionDone.mission_id, MissionDone.day).where(done, MissionDone.day >= monday,
                                                                  MissionDone.day < monday + timedelta(days=7)))),
        completions=tuple(sorted((mid, n) for mid, n in db.execute(
            select(MissionDone.mission_id, func.count()).where(done).group_by(MissionDone.mission_id)))),
        daily_completions=int(daily),
        stars=int(stars),
        badges=frozenset(db.scalars(select(BadgeEarned.badge_id).where(BadgeEarned.child_id == child_id))),
    )


# ----------------------------------------------------------------------------- saving


@dataclass(frozen=True)
class Saved:
    """What a save answers."""

    creation: Creation
    rewards: game.Rewards
    total: int  # the child's stars right after this save
    replayed: bool = False  # a retry: the creation was saved before, under the same idempotency key


def saved_with_key(db: Session, child_id: int, key: str) -> Creation | None:
    """The creation a child saved with idempotency key ``key``, if any."""
    return db.scalar(select(Creation).where(Creation.child_id == child_id, Creation.idempotency_key == key))


def replay(db: Session, creation: Creation) -> Saved:
    """The answer the save of ``creation`` gave, read back from the ledger: its star events, its
    missions, the badges earned at its moment and the stars in all up to its last event."""
    events = db.execute(select(StarEvent.id, StarEvent.reason, StarEvent.stars)
                        .where(StarEvent.creation_id == creation.id).order_by(StarEvent.id)).all()
    missions = db.scalars(select(MissionDone.mission_id).where(MissionDone.creation_id == creation.id).order_by(MissionDone.id))
    badges = db.scalars(select(BadgeEarned.badge_id).where(BadgeEarned.child_id == creation.child_id,
                                                           BadgeEarned.earned_at == creation.created_at).order_by(BadgeEarned.id))
    upto = StarEvent.id <= events[-1].id if events else StarEvent.created_at <= creation.created_at
    total = int(db.scalar(select(func.coalesce(func.sum(StarEvent.stars), 0)).where(StarEvent.child_id == creation.child_id, upto)))
    stars = sum(e.stars for e in events)
    after = game.level_for(max(0, total))
    rewards = game.Rewards(stars=stars, reasons=tuple((e.reason, e.stars) for e in events), missions_done=tuple(missions),
                           badges=tuple(badges), level=after.number,
                           level_up=after.number > game.level_for(max(0, total - stars)).number)
    return Saved(creation, rewards, total, replayed=True)


def save_creation(
    db: Session,
    store: FileStore,
    child: Child,
    drawing_png: bytes,
    picture_png: bytes | None,
    facts: game.CreationFacts,
    missions: Sequence[game.Mission],
    known_labels: Iterable[str],
    recognized_prob: float | None = None,
    idempotency_key: str | None = None,
) -> Saved:
    """Store files and rows and run the game rules, all or nothing.

    With ``idempotency_key``, a save the child already made with that key is answered again
    (see :func:`replay`) and nothing new is written, also when two such saves race.
    """
    if idempotency_key is not None and (earlier := saved_with_key(db, child.id, idempotency_key)) is not None:
        return replay(db, earlier)
    for attempt in range(SAVE_TRIES):
        try:
            with store.all_or_nothing(db) as put:  # any failure rolls back and deletes the files this try wrote
                keys = [put(data) for data in (drawing_png, picture_png) if data is not None]
                today = game.day_of(facts.at)
                history = history_of(db, child.id, today)
                rewards = game.evaluate(history, facts, missions, child.id, today, known_labels=known_labels)
                creation = Creation(child_id=child.id, kind=facts.kind, recognized=facts.recognized, recognized_prob=recognized_prob,
                                    colours=facts.colours, seconds=facts.seconds, mission_id=facts.mission_id, favourite=False,
                                    drawing_key=keys[0], picture_key=keys[1] if len(keys) > 1 else None, created_at=facts.at,
                                    idempotency_key=idempotency_key)
                db.add(creation)
                db.flush()
                db.add_all(StarEvent(child_id=child.id, creation_id=creation.id, reason=key, stars=stars, created_at=facts.at)
                           for key, stars in rewards.reasons)
                db.add_all(MissionDone(child_id=child.id, mission_id=mid, day=today, creation_id=creation.id)
                           for mid in rewards.missions_done)
                db.add_all(BadgeEarned(child_id=child.id, badge_id=bid, earned_at=facts.at) for bid in rewards.badges)
                db.commit()
        except IntegrityError:
            if idempotency_key is not None and (earlier := saved_with_key(db, child.id, idempotency_key)) is not None:
                return replay(db, earlier)  # the same save, sent twice at once: the other one won
            if attempt + 1 == SAVE_TRIES:
                raise
            continue  # another save of the child's won a mission or badge first: the rules run again on it
        return Saved(creation, rewards, history.stars + rewards.stars)
    raise AssertionError("unreachable")  # the loop returns or raises


def delete_creation(db: Session, store: FileStore, creation: Creation) -> None:
    keys = [creation.drawing_key, creation.picture_key]
    db.delete(creation)
    db.commit()
    store.collect(db, keys)


def delete_child(db: Session, store: FileStore, child: Child) -> None:
    """Delete a profile with its creations, stars, missions, badges and (unshared) files."""
    keys = [k for row in db.execute(select(Creation.drawing_key, Creation.picture_key).where(Creation.child_id == child.id))
            for k in row]
    db.delete(child)  # the database cascades to every row of the child
    db.commit()
    store.collect(db, keys)


def _iso(at: datetime) -> str:
    return at.isoformat()


def export_child(db: Session, store: FileStore, child: Child) -> IO[bytes]:
    """A zip of the profile: profile.json, creations.json and creations/<id>-drawing.png / -picture.png."""
    creations = db.scalars(select(Creation).where(Creation.child_id == child.id).order_by(Creation.created_at, Creation.id)).all()
    today = game.day_of(utcnow())
    history = history_of(db, child.id, today)
    done = db.execute(select(MissionDone.mission_id, MissionDone.day).where(MissionDone.child_id == child.id)
                      .order_by(MissionDone.day, MissionDone.mission_id)).all()
    events = db.scalars(select(StarEvent).where(StarEvent.child_id == child.id).order_by(StarEvent.id)).all()
    badges = db.scalars(select(BadgeEarned).where(BadgeEarned.child_id == child.id).order_by(BadgeEarned.earned_at)).all()
    level = game.level_for(history.stars)
    profile = {
        "id": child.id, "nickname": child.nickname, "avatar": child.avatar, "created_at": _iso(child.created_at),
        "stars": history.stars, "level": {"number": level.number, "into": level.into, "needed": level.needed},
        "streak_days": game.streak_days(history, today),
        "badges": [{"id": b.badge_id, "earned_at": _iso(b.earned_at)} for b in badges],
        "missions_done": [{"id": m, "day": d.isoformat()} for m, d in done],
        "star_events": [{"reason": e.reason, "stars": e.stars, "at": _iso(e.created_at), "creation_id": e.creation_id} for e in events],
    }
    listing, files = [], []
    for c in creations:
        entry = {"id": c.id, "kind": c.kind, "recognized": c.recognized, "recognized_prob": c.recognized_prob,
                 "favourite": c.favourite, "colours": c.colours, "seconds": c.seconds, "mission_id": c.mission_id,
                 "created_at": _iso(c.created_at), "drawing": f"creations/{c.id}-drawing.png", "picture": None}
        files.append((entry["drawing"], c.drawing_key))
        if c.picture_key:
            entry["picture"] = f"creations/{c.id}-picture.png"
            files.append((entry["picture"], c.picture_key))
        listing.append(entry)
    out = tempfile.SpooledTemporaryFile(max_size=EXPORT_SPOOL_BYTES)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("profile.json", json.dumps(profile, ensure_ascii=False, indent=2))
        z.writestr("creations.json", json.dumps(listing, ensure_ascii=False, indent=2))
        for name, key in files:
            if store.exists(key):
                z.write(store.path(key), name, compress_type=zipfile.ZIP_STORED)  # PNGs are compressed already
    out.seek(0)
    return out
