"""Async SQLAlchemy 2 plumbing: one engine per service process, one database per service."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

# Stable constraint names so autogenerate and downgrades agree across machines.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> sa.MetaData:
    return sa.MetaData(naming_convention=NAMING_CONVENTION)


def where_given(query: sa.Select, *filters: tuple[sa.ColumnElement, object]) -> sa.Select:
    """Add `column == value` for each optional filter the caller gave (a falsy value means "any")."""
    for column, value in filters:
        if value:
            query = query.where(column == value)
    return query


def async_url(url: str) -> str:
    """Accept postgres://, postgresql:// or postgresql+asyncpg:// and return the asyncpg form."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def with_database(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def database_name(url: str) -> str:
    return make_url(url).database or ""


def create_engine(url: str, *, service: str, pool_size: int = 5, max_overflow: int = 5) -> AsyncEngine:
    return create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=True,
        pool_recycle=600,
        connect_args={"server_settings": {"application_name": f"herplaatsing.{service}"}, "command_timeout": 60},
    )


class Database:
    """A service's engine and session factory (expire_on_commit off: no implicit IO after commit)."""

    def __init__(self, url: str, *, service: str, pool_size: int = 5, max_overflow: int = 5) -> None:
        self.url = url
        self.engine = create_engine(url, service=service, pool_size=pool_size, max_overflow=max_overflow)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: commits on success, rolls back on any exception."""
        async with self.sessions() as session, session.begin():
            yield session

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


async def ensure_database(server_url: str, database: str) -> bool:
    """Create `database` on the server if missing. Returns True when it was created."""
    admin = create_async_engine(async_url(with_database(server_url, "postgres")), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            exists = await conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": database})
            if exists:
                return False
            await conn.execute(sa.text(f'CREATE DATABASE "{database}"'))
            return True
    finally:
        await admin.dispose()


async def drop_database(server_url: str, database: str) -> None:
    admin = create_async_engine(async_url(with_database(server_url, "postgres")), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    finally:
        await admin.dispose()
