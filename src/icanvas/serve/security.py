"""Passwords, picture PINs, session tokens, CSRF tokens and the login rate limiter.

Passwords and PINs are hashed with scrypt (``scrypt$n$r$p$salt$hash``, hex) and compared in
constant time. Session tokens are random; the database stores only their sha256. Failed
logins and PIN tries are rows of ``login_attempts``, so limits hold across restarts.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from icanvas.serve.problems import TooManyRequests
from icanvas.serve.tables import LoginAttempt, utcnow

SCRYPT_N = 2**14  # scrypt CPU/memory cost (16 MiB of memory per hash with r=8)
SCRYPT_R = 8  # scrypt block size
SCRYPT_P = 1  # scrypt parallelism
SALT_BYTES = 16  # random salt per hash, bytes
TOKEN_BYTES = 32  # randomness of session and CSRF tokens, bytes
PASSWORD_MIN = 8  # shortest password accepted, characters
PASSWORD_MAX = 256  # longest password accepted, characters (bounds hashing work)

PIN_ICONS = ("apple", "ball", "car", "cat", "dog", "fish", "flower", "moon", "rocket", "star", "sun", "tree")  # picture-PIN icons
PIN_LENGTH = 3  # icons in a picture PIN


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(secret.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=128 * r * n * 2 + 2**20, dklen=32)


def hash_secret(secret: str) -> str:
    """scrypt hash of a password or PIN, with a fresh salt and its parameters."""
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(secret, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_secret(secret: str, stored: str) -> bool:
    """True when ``secret`` matches ``stored`` (constant-time compare)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = _scrypt(secret, bytes.fromhex(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(got, bytes.fromhex(digest))


_DUMMY_HASH = hash_secret("not a real password")


def burn_time(secret: str) -> None:
    """Spend the time of one verification, so unknown e-mails take as long as wrong passwords."""
    verify_secret(secret, _DUMMY_HASH)


def pin_text(pin: list[str] | tuple[str, ...]) -> str:
    return "|".join(pin)


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def same_token(a: str | None, b: str | None) -> bool:
    """Constant-time equality of two non-empty tokens."""
    return bool(a) and bool(b) and hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


# ============================================================================ rate limiting


@dataclass(frozen=True)
class Limit:
    scope: str  # what is counted: "email", "ip" or "pin"
    tries: int  # failures allowed inside the window
    window: timedelta  # how far back failures count

    def _since(self, now: datetime) -> datetime:
        return now - self.window


LOGIN_PER_EMAIL = Limit("email", 5, timedelta(minutes=15))  # failed logins per e-mail
LOGIN_PER_IP = Limit("ip", 5, timedelta(minutes=15))  # failed logins per client address
PIN_PER_CHILD = Limit("pin", 5, timedelta(minutes=5))  # wrong picture PINs per child profile
PRUNE_AFTER = timedelta(days=1)  # failures older than this are deleted


def check_limit(db: Session, limit: Limit, key: str, problem: str, hint: str) -> None:
    """Raise 429 with Retry-After when ``key`` already failed ``limit.tries`` times in the window."""
    now = utcnow()
    rows = db.scalars(select(LoginAttempt.at).where(LoginAttempt.scope == limit.scope, LoginAttempt.key == key,
                                                    LoginAttempt.at > limit._since(now)).order_by(LoginAttempt.at)).all()
    if len(rows) >= limit.tries:
        oldest_counted = rows[len(rows) - limit.tries]
        wait = math.ceil((oldest_counted + limit.window - now).total_seconds())
        raise TooManyRequests(problem, hint, retry_after=max(1, wait))


def record_failure(db: Session, limit: Limit, key: str) -> None:
    now = utcnow()
    db.add(LoginAttempt(scope=limit.scope, key=key, at=now))
    if secrets.randbelow(20) == 0:  # now and then, forget failures nobody will count again
        db.execute(delete(LoginAttempt).where(LoginAttempt.at < now - PRUNE_AFTER))


def clear_failures(db: Session, limit: Limit, key: str) -> None:
    db.execute(delete(LoginAttempt).where(LoginAttempt.scope == limit.scope, LoginAttempt.key == key))


def failures(db: Session, limit: Limit, key: str) -> int:
    now = utcnow()
    return db.scalar(select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.scope == limit.scope, LoginAttempt.key == key, LoginAttempt.at > limit._since(now))) or 0
