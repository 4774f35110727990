"""A child's album and game state in the database: saving creations with their rewards,
deleting creations and profiles with their files, and exporting a profile as a zip.

Saving runs the game rules (:func:`icanvas.serve.game.evaluate`) on the history read from the
database and writes the creation, its star events, completed missions and new badges in one
transaction. Files are written before the commit and collected again if it fails.
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import IO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from icanvas.serve import game
from icanvas.serve.schemas import CreationOut
from icanvas.serve.storage import FileStore
from icanvas.serve.tables import BadgeEarned, Child, Creation, MissionDone, StarEvent, utcnow

EXPORT_SPOOL_BYTES = 32 * 2**20  # exports larger than this are spooled to a temporary file, bytes


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


def facts_of(c: Creation) -> game.CreationFacts:
    return game.CreationFacts(at=c.created_at, kind=c.kind, recognized=c.recognized, colours=c.colours,
                              seconds=c.seconds, mission_id=c.mission_id)


def history_of(db: Session, child_id: int) -> game.History:
    """Everything the game rules need to know about a child's past."""
    creations = db.scalars(select(Creation).where(Creation.child_id == child_id)).all()
    missions = db.execute(select(MissionDone.mission_id, MissionDone.day).where(MissionDone.child_id == child_id)).all()
    badges = db.scalars(select(BadgeEarned.badge_id).where(BadgeEarned.child_id == child_id)).all()
    return game.History(creations=tuple(facts_of(c) for c in creations), missions_done=tuple((m, d) for m, d in missions),
                        stars=stars_of(db, [child_id])[child_id], badges=frozenset(badges))


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
) -> tuple[Creation, game.Rewards, int]:
    """Store files and rows, run the game rules; returns (creation, rewards, stars in all)."""
    with store.lock:  # no file of ours is collected between writing it and committing its row
        keys = [store.put(drawing_png)]
        if picture_png is not None:
            keys.append(store.put(picture_png))
        try:
            history = history_of(db, child.id)
            today = game.day_of(facts.at)
            rewards = game.evaluate(history, facts, missions, child.id, today, known_labels=known_labels)
            creation = Creation(child_id=child.id, kind=facts.kind, recognized=facts.recognized, recognized_prob=recognized_prob,
                                colours=facts.colours, seconds=facts.seconds, mission_id=facts.mission_id, favourite=False,
                                drawing_key=keys[0], picture_key=keys[1] if len(keys) > 1 else None, created_at=facts.at)
            db.add(creation)
            db.flush()
            db.add_all(StarEvent(child_id=child.id, creation_id=creation.id, reason=key, stars=stars, created_at=facts.at)
                       for key, stars in rewards.reasons)
            db.add_all(MissionDone(child_id=child.id, mission_id=mid, day=today, creation_id=creation.id)
                       for mid in rewards.missions_done)
            db.add_all(BadgeEarned(child_id=child.id, badge_id=bid, earned_at=facts.at) for bid in rewards.badges)
            db.commit()
        except BaseException:
            db.rollback()
            store.collect(db, keys)
            raise
    return creation, rewards, history.stars + rewards.stars


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
    history = history_of(db, child.id)
    events = db.scalars(select(StarEvent).where(StarEvent.child_id == child.id).order_by(StarEvent.id)).all()
    badges = db.scalars(select(BadgeEarned).where(BadgeEarned.child_id == child.id).order_by(BadgeEarned.earned_at)).all()
    level = game.level_for(history.stars)
    profile = {
        "id": child.id, "nickname": child.nickname, "avatar": child.avatar, "created_at": _iso(child.created_at),
        "stars": history.stars, "level": {"number": level.number, "into": level.into, "needed": level.needed},
        "streak_days": game.streak_days(history, game.day_of(utcnow())),
        "badges": [{"id": b.badge_id, "earned_at": _iso(b.earned_at)} for b in badges],
        "missions_done": [{"id": m, "day": d.isoformat()} for m, d in sorted(history.missions_done, key=lambda x: (x[1], x[0]))],
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
