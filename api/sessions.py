"""Signed-in browsers: server-side sessions that expire, and the login rate limiter."""

import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from api.credentials import new_token, token_hash
from api.db import Database
from api.models import SessionRow


@dataclass(frozen=True, slots=True)
class IssuedSession:
    token: str  # the cookie's value; only its hash is stored
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ActiveSession:
    user_id: int | None  # None: the operator signed in with API_ACCESS_TOKEN
    csrf_token: str
    expires_at: datetime


class SessionStore:
    def __init__(self, database: Database, *, max_age: timedelta) -> None:
        self._db = database
        self.max_age = max_age

    def create(self, user_id: int | None, *, now: datetime) -> IssuedSession:
        token, csrf = new_token(), new_token()
        expires_at = now + self.max_age
        row = SessionRow(
            token_hash=token_hash(token),
            user_id=user_id,
            csrf_token=csrf,
            created_at=now,
            expires_at=expires_at,
        )
        with self._db.session("create session") as session:
            session.add(row)
            # expired sessions of anyone go with each login: the table never grows unbounded
            session.execute(delete(SessionRow).where(SessionRow.expires_at <= now))
            session.commit()
        return IssuedSession(token, csrf, expires_at)

    def resolve(self, token: str, *, now: datetime) -> ActiveSession | None:
        query = select(SessionRow).where(SessionRow.token_hash == token_hash(token))
        with self._db.session("resolve session") as session:
            row = session.scalar(query)
        if row is None or row.expires_at <= now:
            return None
        return ActiveSession(row.user_id, row.csrf_token, row.expires_at)

    def delete(self, token: str) -> None:
        with self._db.session("delete session") as session:
            session.execute(delete(SessionRow).where(SessionRow.token_hash == token_hash(token)))
            session.commit()

    def delete_for_user(self, user_id: int) -> None:
        with self._db.session("delete user sessions") as session:
            session.execute(delete(SessionRow).where(SessionRow.user_id == user_id))
            session.commit()


class LoginRateLimiter:
    """At most `max_failures` failed logins per (username, client address) in `window`.

    Kept in memory per process: behind a load balancer each replica counts its own share, so
    an attacker gets at most N x max_failures tries per window; the argon2 cost bounds the rest.
    """

    def __init__(self, *, max_failures: int, window: timedelta, max_keys: int = 100_000) -> None:
        self._max_failures = max_failures
        self._window = window
        self._max_keys = max_keys
        self._failures: dict[tuple[str, str], deque[datetime]] = {}
        self._lock = threading.Lock()

    def retry_after_s(self, username: str, address: str, *, now: datetime) -> float:
        """0 when a try is allowed now, else the seconds until the oldest failure ages out."""
        with self._lock:
            failures = self._recent((username.casefold(), address), now)
            if len(failures) < self._max_failures:
                return 0.0
            return max((failures[0] + self._window - now).total_seconds(), 1.0)

    def record_failure(self, username: str, address: str, *, now: datetime) -> None:
        key = (username.casefold(), address)
        with self._lock:
            if key not in self._failures and len(self._failures) >= self._max_keys:
                self._failures.pop(next(iter(self._failures)))  # forget the oldest key
            self._recent(key, now).append(now)

    def record_success(self, username: str, address: str) -> None:
        with self._lock:
            self._failures.pop((username.casefold(), address), None)

    def _recent(self, key: tuple[str, str], now: datetime) -> deque[datetime]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] + self._window <= now:
            failures.popleft()
        return failures
