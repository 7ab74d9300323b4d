"""API keys (only their SHA-256 is stored) and per-key rate limiting."""

from __future__ import annotations

import hashlib
import ipaddress
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import redis
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from realeyes.store import ApiKey, Database, RateLimitWindow
from realeyes.store.models import owner_of

SCOPES = ("analyze", "admin")
KEY_PREFIX = "re_"
MAX_KEY_NAME = 64
# Letters, digits and a few separators; "~" is not among them: a revoked key's stored name is "<name>~<id>",
# which frees the name for a new key and can never collide with a name someone chooses.
_KEY_NAME = re.compile(rf"[A-Za-z0-9][A-Za-z0-9 ._@+-]{{0,{MAX_KEY_NAME - 1}}}")
REVOKED_MARK = "~"


@dataclass(frozen=True)
class Principal:
    key_id: str | None  # None: auth is off (loopback laptop default)
    name: str
    scopes: frozenset[str]

    @property
    def owner(self) -> str:
        """Whose records this caller makes and may see: its key, or the anonymous loopback user."""
        return owner_of(self.key_id)

    @property
    def is_admin(self) -> bool:
        """An `admin` key sees and manages every owner's records and reviews feedback."""
        return "admin" in self.scopes


# Without a key (auth off) a caller may analyse and see what was made without a key; administering everyone's
# records and reviewing feedback takes an `admin` key (or the CLI on the server).
ANONYMOUS = Principal(key_id=None, name="anonymous", scopes=frozenset({"analyze"}))


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(database: Database, name: str, scopes: list[str]) -> str:
    """Store a new key and return it; this is the only time the key itself exists anywhere."""
    if not _KEY_NAME.fullmatch(name) or name != name.strip():
        raise ValueError(
            f"a key name is 1 to {MAX_KEY_NAME} characters: letters, digits, spaces and . _ @ + - "
            "(starting with a letter or digit, no trailing space)"
        )
    if not scopes:
        raise ValueError(f"a key needs at least one scope; known: {', '.join(SCOPES)}")
    unknown = set(scopes) - set(SCOPES)
    if unknown:
        raise ValueError(f"unknown scope(s) {sorted(unknown)}; known: {', '.join(SCOPES)}")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    with database.session() as session:
        session.add(ApiKey(name=name, prefix=key[:10], key_hash=hash_key(key), scopes=sorted(set(scopes))))
    return key


def revoke_key(database: Database, name: str) -> bool:
    with database.session() as session:
        key = session.scalar(select(ApiKey).where(ApiKey.name == name, ApiKey.revoked_at.is_(None)))
        if key is None:
            return False
        key.revoked_at = datetime.now(UTC)
        key.name = f"{name}{REVOKED_MARK}{key.id}"  # the name is free again for a new key
        return True


def display_name(stored: str) -> str:
    """The name a key was created with (a revoked key's stored name carries its id after "~")."""
    return stored.split(REVOKED_MARK, 1)[0]


def lookup_key(database: Database, key: str) -> Principal | None:
    with database.session() as session:
        row = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key), ApiKey.revoked_at.is_(None)))
        return None if row is None else Principal(row.id, row.name, frozenset(row.scopes))


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class RateLimiter:
    """Fixed one-minute windows per client. Counts live in Redis when the service has one (shared by every
    replica), in the database when several server processes share it without Redis, else in this process."""

    def __init__(self, per_minute: int, redis_url: str | None = None, database: Database | None = None) -> None:
        self.per_minute = per_minute
        self._redis = redis.Redis.from_url(redis_url, socket_timeout=1) if redis_url else None
        self._database = database
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()
        self._swept_minute = 0

    def hit(self, client: str) -> float | None:
        """Count one request; return the seconds to wait when over the limit, else None."""
        if self.per_minute <= 0:
            return None
        now = time.time()
        window = int(now // 60)
        if self._redis is not None:
            count = self._count_redis(self._redis, client, window)
        elif self._database is not None:
            count = self._count_database(self._database, client[:200], window)
        else:
            count = self._count_local(client, window)
        return None if count <= self.per_minute else 60.0 - (now % 60)

    def _count_local(self, client: str, window: int) -> int:
        with self._lock:
            if len(self._counts) > 10_000:  # forget old windows
                self._counts = {k: v for k, v in self._counts.items() if k[1] == window}
            self._counts[(client, window)] = count = self._counts.get((client, window), 0) + 1
            return count

    def _count_redis(self, client_redis: redis.Redis, client: str, window: int) -> int:
        key = f"realeyes:rate:{client}:{window}"
        try:
            pipe = client_redis.pipeline()
            pipe.incr(key)
            pipe.expire(key, 120)
            count, _ = pipe.execute()
            return int(count)
        except redis.RedisError:
            return self._count_local(client, window)  # Redis down: limit per process rather than not at all

    def _count_database(self, database: Database, client: str, window: int) -> int:
        """One atomic upsert per request (SQLite and PostgreSQL both have ON CONFLICT ... RETURNING)."""
        insert = postgresql_insert if database.engine.dialect.name == "postgresql" else sqlite_insert
        upsert = (
            insert(RateLimitWindow)
            .values(client=client, minute=window, hits=1)
            .on_conflict_do_update(index_elements=["client", "minute"], set_={"hits": RateLimitWindow.hits + 1})
            .returning(RateLimitWindow.hits)
        )
        try:
            with database.engine.begin() as connection:
                count = int(connection.execute(upsert).scalar_one())
                if window != self._swept_minute:  # once a minute per process: forget finished windows
                    connection.execute(delete(RateLimitWindow).where(RateLimitWindow.minute < window - 1))
                    self._swept_minute = window
            return count
        except SQLAlchemyError:
            return self._count_local(client, window)  # database down: limit per process rather than not at all
