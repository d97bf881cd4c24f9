"""Accounts of the editors' desk: users with argon2id password hashes, and their sign-in sessions. No HTTP here.

* **Passwords** are hashed with argon2-cffi's :class:`~argon2.PasswordHasher` (argon2id, RFC 9106 parameters);
  the hash string carries its own salt and parameters, and :func:`authenticate` rehashes a password whose hash
  was made with weaker parameters than today's. An unknown username costs the same hash verification as a known
  one (against a dummy hash), so timing does not tell which usernames exist.
* **Roles** are :data:`~lintas.store.schema.ROLES`, as for API keys (``read`` < ``ingest`` < ``editor`` <
  ``admin``, :func:`~lintas.store.keys.role_allows`).
* **Sessions**: :func:`open_session` returns a random token (256 bits, for the cookie) and a CSRF token; only
  ``sha256(token)`` is stored, so a copy of the database signs nobody in. A session expires ``ttl`` after it was
  last used (sliding, written at most once per :data:`SEEN_EVERY`), and :data:`MAX_SESSION_AGE` after it was
  opened whatever its use. Disabling a user or changing their password closes their sessions.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from lintas.store.db import AnyRow, Bind, transaction, utcnow
from lintas.store.keys import role_allows
from lintas.store.schema import ROLES, sessions, users

__all__ = [
    "User",
    "MIN_PASSWORD",
    "MAX_PASSWORD",
    "SEEN_EVERY",
    "MAX_SESSION_AGE",
    "create_user",
    "get_user",
    "authenticate",
    "set_password",
    "disable_user",
    "enable_user",
    "list_users",
    "open_session",
    "session_user",
    "close_session",
    "prune_sessions",
    "normalise_username",
]

MIN_PASSWORD = 8
MAX_PASSWORD = 1024  # longer inputs are refused before hashing
SEEN_EVERY = timedelta(seconds=60)  # last_seen_at (and the sliding expiry) is written at most this often
MAX_SESSION_AGE = timedelta(days=7)  # a session ends this long after sign-in, however much it is used
PASSWORD_HASHER = PasswordHasher()  # argon2id with argon2-cffi's defaults (RFC 9106, low-memory profile)
_USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,99}$")
_MAX_DISPLAY_NAME = 200
_MAX_TOKEN = 100


@dataclass(frozen=True)
class User:
    """A user's row, without the password hash."""

    id: int
    username: str
    display_name: str | None
    role: str
    created_at: datetime
    disabled_at: datetime | None
    last_login_at: datetime | None

    @property
    def disabled(self) -> bool:
        return self.disabled_at is not None

    @property
    def name(self) -> str:
        """The display name, or the username without one."""
        return self.display_name or self.username

    def allows(self, needed: str) -> bool:
        """Whether this user's role includes ``needed``."""
        return role_allows(self.role, needed)


def _user(row: AnyRow) -> User:
    return User(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        role=row.role,
        created_at=row.created_at,
        disabled_at=row.disabled_at,
        last_login_at=row.last_login_at,
    )


# --- checks and hashing --------------------------------------------------------------------------------------


def normalise_username(username: str) -> str:
    """``username`` stripped and in lower case (usernames are case-insensitive)."""
    return username.strip().lower()


def _check_username(username: str) -> str:
    name = normalise_username(username)
    if not _USERNAME_RE.match(name):
        raise ValueError(
            f"a username is 1 to 100 letters, digits, '.', '_', '@' or '-', starting with a letter or digit, "
            f"not {username!r}"
        )
    return name


def _check_password(password: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise ValueError(f"a password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters, not {len(password)}")


def _check_display_name(display_name: str | None) -> str | None:
    if display_name is None or not display_name.strip():
        return None
    display_name = display_name.strip()
    if len(display_name) > _MAX_DISPLAY_NAME:
        raise ValueError(f"a display name must be at most {_MAX_DISPLAY_NAME} characters, not {len(display_name)}")
    return display_name


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}: choose from {', '.join(ROLES)}")


@lru_cache(maxsize=4)
def _dummy_hash(hasher: PasswordHasher) -> str:
    """A hash nobody knows the password of, with ``hasher``'s parameters (for unknown usernames)."""
    return hasher.hash(secrets.token_urlsafe(16))


def _verify(password_hash: str, password: str) -> bool:
    try:
        return PASSWORD_HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):  # VerifyMismatchError is a VerificationError
        return False


# --- users ---------------------------------------------------------------------------------------------------


def create_user(bind: Bind, username: str, password: str, role: str, display_name: str | None = None) -> User:
    """Store a new user with an argon2id hash of ``password``; ValueError for a bad or taken username, a
    password of under :data:`MIN_PASSWORD` characters, an unknown role or an over-long display name."""
    name = _check_username(username)
    _check_password(password)
    _check_role(role)
    display_name = _check_display_name(display_name)
    password_hash = PASSWORD_HASHER.hash(password)  # slow: before the transaction
    values = dict(username=name, display_name=display_name, password_hash=password_hash, role=role)
    try:
        with transaction(bind) as conn:
            if conn.execute(select(users.c.id).where(users.c.username == name)).first() is not None:
                raise ValueError(f"the username {name!r} is taken")
            conn.execute(insert(users).values(**values, created_at=utcnow()))
            return _user(conn.execute(select(users).where(users.c.username == name)).one())
    except IntegrityError:  # created by someone else between the check and the insert
        raise ValueError(f"the username {name!r} is taken") from None


def get_user(bind: Bind, username: str) -> User | None:
    """The user called ``username`` (any case), or None."""
    with transaction(bind, write=False) as conn:
        row = conn.execute(select(users).where(users.c.username == normalise_username(username))).first()
    return None if row is None else _user(row)


def _signed_in(bind: Bind, user_id: int, password: str, password_hash: str) -> None:
    """Record the sign-in, and store a fresh hash if ``password_hash`` has outdated parameters."""
    values: dict[str, Any] = {"last_login_at": utcnow()}
    if PASSWORD_HASHER.check_needs_rehash(password_hash):
        values["password_hash"] = PASSWORD_HASHER.hash(password)
    with transaction(bind) as conn:
        conn.execute(update(users).where(users.c.id == user_id).values(**values))


def authenticate(bind: Bind, username: str, password: str) -> User | None:
    """The active user whose username and password these are, or None (unknown, wrong or disabled).

    Every answer costs one hash verification, unknown usernames included. On success ``last_login_at`` is set
    and an outdated hash replaced.
    """
    name = normalise_username(username)
    row = None
    if _USERNAME_RE.match(name) and len(password) <= MAX_PASSWORD:
        with transaction(bind, write=False) as conn:
            row = conn.execute(select(users).where(users.c.username == name)).first()
    if row is None:
        _verify(_dummy_hash(PASSWORD_HASHER), password[:MAX_PASSWORD])
        return None
    if not _verify(row.password_hash, password) or row.disabled_at is not None:
        return None
    _signed_in(bind, row.id, password, row.password_hash)
    return get_user(bind, name)


def _update_user(bind: Bind, username: str, *, close_sessions: bool, **values: Any) -> User | None:
    name = normalise_username(username)
    with transaction(bind) as conn:
        row = conn.execute(select(users).where(users.c.username == name)).first()
        if row is None:
            return None
        if values:
            conn.execute(update(users).where(users.c.id == row.id).values(**values))
        if close_sessions:
            conn.execute(delete(sessions).where(sessions.c.user_id == row.id))
        return _user(conn.execute(select(users).where(users.c.id == row.id)).one())


def set_password(bind: Bind, username: str, password: str) -> User | None:
    """Give the user a new password and close their sessions; None for an unknown user, ValueError for a
    password of the wrong length."""
    _check_password(password)
    return _update_user(bind, username, close_sessions=True, password_hash=PASSWORD_HASHER.hash(password))


def disable_user(bind: Bind, username: str) -> User | None:
    """Refuse the user's sign-ins from now on and close their sessions (``disabled_at`` of a disabled user
    stays); None for an unknown user."""
    user = get_user(bind, username)
    if user is None:
        return None
    values = {} if user.disabled else {"disabled_at": utcnow()}
    return _update_user(bind, username, close_sessions=True, **values)


def enable_user(bind: Bind, username: str) -> User | None:
    """Let a disabled user sign in again; None for an unknown user."""
    return _update_user(bind, username, close_sessions=False, disabled_at=None)


def list_users(bind: Bind, *, include_disabled: bool = True) -> list[User]:
    """Every user, by username."""
    query = select(users).order_by(users.c.username)
    if not include_disabled:
        query = query.where(users.c.disabled_at.is_(None))
    with transaction(bind, write=False) as conn:
        return [_user(row) for row in conn.execute(query)]


# --- sessions ------------------------------------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def open_session(bind: Bind, user_id: int, ttl: timedelta) -> tuple[str, str]:
    """A new session of user ``user_id``, valid ``ttl`` after its last use; returns ``(token, csrf_token)``.

    The token goes in the cookie and is not stored (its sha256 is); the CSRF token must come back with every
    state-changing request of the session.
    """
    if ttl <= timedelta(0):
        raise ValueError(f"a session's ttl must be positive, not {ttl}")
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = utcnow()
    with transaction(bind) as conn:
        conn.execute(
            insert(sessions).values(
                id=_digest(token),
                user_id=user_id,
                csrf_token=csrf,
                created_at=now,
                expires_at=now + ttl,
                last_seen_at=now,
            )
        )
    return token, csrf


def _slide(bind: Bind, session_id: str, row: AnyRow, now: datetime) -> None:
    """Move the session's expiry forward by its window (``expires_at - last_seen_at``), within MAX_SESSION_AGE."""
    window = row.s_expires_at - row.s_last_seen_at
    expires = max(row.s_expires_at, min(now + window, row.s_created_at + MAX_SESSION_AGE))
    with transaction(bind) as conn:
        conn.execute(
            update(sessions)
            .where(sessions.c.id == session_id, sessions.c.last_seen_at < now - SEEN_EVERY)
            .values(last_seen_at=now, expires_at=expires)
        )


def session_user(bind: Bind, token: str) -> tuple[User, str] | None:
    """``(user, csrf_token)`` of the session ``token`` opened, or None: unknown, closed or expired session,
    or a disabled user. Slides the expiry forward (a write at most once per :data:`SEEN_EVERY`)."""
    if not token or len(token) > _MAX_TOKEN:
        return None
    session_id = _digest(token)
    query = (
        select(
            users,
            sessions.c.csrf_token.label("s_csrf"),
            sessions.c.created_at.label("s_created_at"),
            sessions.c.expires_at.label("s_expires_at"),
            sessions.c.last_seen_at.label("s_last_seen_at"),
        )
        .select_from(sessions.join(users, users.c.id == sessions.c.user_id))
        .where(sessions.c.id == session_id)
    )
    with transaction(bind, write=False) as conn:
        row = conn.execute(query).first()
    now = utcnow()
    if row is None or row.s_expires_at <= now or row.disabled_at is not None:
        return None
    if now - row.s_last_seen_at >= SEEN_EVERY:
        _slide(bind, session_id, row, now)
    return _user(row), row.s_csrf


def close_session(bind: Bind, token: str) -> bool:
    """End the session ``token`` opened (signing out); whether there was one."""
    if not token or len(token) > _MAX_TOKEN:
        return False
    with transaction(bind) as conn:
        return conn.execute(delete(sessions).where(sessions.c.id == _digest(token))).rowcount > 0


def prune_sessions(bind: Bind, now: datetime | None = None) -> int:
    """Delete the sessions that have expired (by ``now``, default the current time); how many."""
    moment = now or utcnow()
    with transaction(bind) as conn:
        return conn.execute(delete(sessions).where(sessions.c.expires_at <= moment)).rowcount
