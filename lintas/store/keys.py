"""API keys of the service: created, verified, listed and revoked here; nothing here knows about HTTP.

A key is the token ``lintas_<id>_<secret>``: ``id`` (16 hex digits) is public and names the row, ``secret`` is
256 random bits (:func:`secrets.token_urlsafe`). Only ``sha256(secret)`` is stored, so a copy of the database
gives no usable key. A slow password hash (bcrypt, argon2) is not needed: it protects guessable passwords, and
a 256-bit random secret cannot be guessed whatever the hash; sha256 keeps verification cheap. The stored and
computed digests are compared with :func:`hmac.compare_digest` (constant time).

Roles are :data:`~lintas.store.schema.ROLES` (``read`` < ``ingest`` < ``editor`` < ``admin``): each includes
the ones before it (:func:`role_allows`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, or_, select, update

from lintas.store.db import AnyRow, Bind, transaction, utcnow
from lintas.store.schema import ROLES, api_keys

__all__ = [
    "MAX_RATE_PER_MINUTE",
    "KeyInfo",
    "create_key",
    "verify_key",
    "list_keys",
    "revoke_key",
    "role_allows",
    "key_id_of",
]

TOKEN_PREFIX = "lintas"
LAST_USED_EVERY = timedelta(seconds=60)  # last_used_at is written at most this often per key
_TOKEN_RE = re.compile(r"^lintas_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")
_MAX_NAME = 200
MAX_RATE_PER_MINUTE = 1_000_000_000  # a bound, so that no number overflows the column (32-bit on PostgreSQL)


@dataclass(frozen=True)
class KeyInfo:
    """A key's row, without its secret."""

    id: str
    name: str
    role: str
    rate_per_minute: int | None
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def allows(self, needed: str) -> bool:
        """Whether this key's role includes ``needed``."""
        return role_allows(self.role, needed)


def role_allows(role: str, needed: str) -> bool:
    """Whether ``role`` includes ``needed`` (ValueError for a role that is not in ROLES)."""
    for name in (role, needed):
        if name not in ROLES:
            raise ValueError(f"unknown role {name!r}: choose from {', '.join(ROLES)}")
    return ROLES.index(role) >= ROLES.index(needed)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def _info(row: AnyRow) -> KeyInfo:
    return KeyInfo(
        id=row.id,
        name=row.name,
        role=row.role,
        rate_per_minute=row.rate_per_minute,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


def key_id_of(token: str) -> str | None:
    """The id part of a well-formed token, or None."""
    match = _TOKEN_RE.match(token.strip())
    return match.group(1) if match else None


def _check(name: str, role: str, rate_per_minute: int | None) -> str:
    name = name.strip()
    if not name or len(name) > _MAX_NAME:
        raise ValueError(f"a key's name must be 1 to {_MAX_NAME} characters, not {len(name)}")
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}: choose from {', '.join(ROLES)}")
    if rate_per_minute is not None and (
        isinstance(rate_per_minute, bool) or not 1 <= rate_per_minute <= MAX_RATE_PER_MINUTE
    ):
        raise ValueError(f"rate_per_minute must be 1 to {MAX_RATE_PER_MINUTE:,} requests, not {rate_per_minute!r}")
    return name


def create_key(bind: Bind, name: str, role: str, rate_per_minute: int | None = None) -> tuple[str, str]:
    """Store a new key; returns ``(key_id, token)``. The token is shown once: only its secret's hash is kept.

    ``rate_per_minute`` overrides the service's default rate limit for this key (None: the default).
    ValueError for a blank or over-long name, an unknown role or a rate below 1.
    """
    name = _check(name, role, rate_per_minute)
    key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    with transaction(bind) as conn:
        conn.execute(
            insert(api_keys).values(
                id=key_id,
                name=name,
                role=role,
                secret_hash=_digest(secret),
                rate_per_minute=rate_per_minute,
                created_at=utcnow(),
            )
        )
    return key_id, f"{TOKEN_PREFIX}_{key_id}_{secret}"


def _touch(bind: Bind, key_id: str, now: datetime) -> None:
    """Set last_used_at, unless another request did within LAST_USED_EVERY."""
    with transaction(bind) as conn:
        conn.execute(
            update(api_keys)
            .where(
                api_keys.c.id == key_id,
                or_(api_keys.c.last_used_at.is_(None), api_keys.c.last_used_at < now - LAST_USED_EVERY),
            )
            .values(last_used_at=now)
        )


def verify_key(bind: Bind, token: str) -> KeyInfo | None:
    """The key that ``token`` is, or None for a malformed, unknown, wrong or revoked token.

    Records ``last_used_at``, writing it at most once per :data:`LAST_USED_EVERY` per key.
    """
    match = _TOKEN_RE.match(token.strip())
    if match is None:
        return None
    key_id, secret = match.groups()
    with transaction(bind, write=False) as conn:
        row = conn.execute(select(api_keys).where(api_keys.c.id == key_id)).first()
    if row is None or not hmac.compare_digest(row.secret_hash, _digest(secret)) or row.revoked_at is not None:
        return None
    info = _info(row)
    now = utcnow()
    if info.last_used_at is None or now - info.last_used_at >= LAST_USED_EVERY:
        _touch(bind, key_id, now)
    return info


def list_keys(bind: Bind, *, include_revoked: bool = True) -> list[KeyInfo]:
    """Every key, oldest first."""
    query = select(api_keys).order_by(api_keys.c.created_at, api_keys.c.id)
    if not include_revoked:
        query = query.where(api_keys.c.revoked_at.is_(None))
    with transaction(bind, write=False) as conn:
        return [_info(row) for row in conn.execute(query)]


def revoke_key(bind: Bind, key_id: str) -> KeyInfo | None:
    """Revoke the key (at once in the database; see the service's key cache); None for an unknown id.

    Revoking a revoked key changes nothing (its ``revoked_at`` stays).
    """
    with transaction(bind) as conn:
        conn.execute(
            update(api_keys).where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None)).values(revoked_at=utcnow())
        )
        row = conn.execute(select(api_keys).where(api_keys.c.id == key_id)).first()
    return None if row is None else _info(row)
