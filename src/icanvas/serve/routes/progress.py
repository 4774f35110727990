"""Missions and a child's progress: stars, level, streak, badges, today's missions."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from icanvas.serve import game
from icanvas.serve.album import history_of
from icanvas.serve.routes.deps import DB, ChildDep, StateDep
from icanvas.serve.schemas import BadgeOut, LevelOut, MissionOut, MissionToday, Progress
from icanvas.serve.tables import BadgeEarned, utcnow

router = APIRouter(tags=["game"])


def mission_out(m: game.Mission) -> MissionOut:
    return MissionOut(id=m.id, title=m.title, icon=m.icon, rule=m.rule, params=m.params, stars=m.stars, daily=m.daily)


@router.get("/missions", response_model=list[MissionOut])
def missions(state: StateDep) -> list[MissionOut]:
    """Every mission the studio offers."""
    return [mission_out(m) for m in state.missions]


@router.get("/progress", response_model=Progress)
def progress(db: DB, state: StateDep, viewer: ChildDep) -> Progress:
    """The active child's stars, level, streak, badges, mission of the day and missions done today."""
    child = viewer.child
    today = game.day_of(utcnow())
    history = history_of(db, child.id)
    level = game.level_for(history.stars)
    earned = db.scalars(select(BadgeEarned).where(BadgeEarned.child_id == child.id).order_by(BadgeEarned.earned_at, BadgeEarned.id))
    badges = [BadgeOut(id=b.badge_id, icon=game.BADGES[b.badge_id].icon, title=game.BADGES[b.badge_id].title, earned_at=b.earned_at)
              for b in earned if b.badge_id in game.BADGES]
    listed = [MissionToday(**mission_out(m).model_dump(), done_today=game.done_in_period(m, history.missions_done, today))
              for m in state.missions]
    return Progress(stars=history.stars, level=LevelOut(number=level.number, into=level.into, needed=level.needed),
                    streak_days=game.streak_days(history, today), badges=badges,
                    daily=mission_out(game.daily_mission(state.missions, child.id, today)), missions=listed)
