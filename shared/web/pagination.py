"""Cursor pagination: `limit` + an opaque `cursor` (keyset over a unique ordering)."""

from __future__ import annotations

import base64
import contextvars
import datetime as dt
import math
import uuid
from typing import Annotated, Any, Generic, TypeVar
from urllib.parse import parse_qsl, urlencode

import orjson
import sqlalchemy as sa
from fastapi import Query
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from shared.web.problems import InvalidInput

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500

LimitQuery = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size.")]
CursorQuery = Annotated[str | None, Query(max_length=1000, description="Opaque cursor from the previous page's `next_cursor`.")]


# The page a request answers with, for its `Link` header (a holder the HTTP middleware sets per
# request: mutated, not re-set, so the endpoint's context copy still reaches it).
answered_page: contextvars.ContextVar[list["Page[Any]"] | None] = contextvars.ContextVar("answered_page", default=None)


class Page(BaseModel, Generic[T]):
    data: list[T]
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` to get the next page; null on the last page.")

    def model_post_init(self, context: Any) -> None:
        holder = answered_page.get()
        if holder is not None:
            holder[:] = [self]


def page_links(path: str, query_string: str, next_cursor: str | None) -> str:
    """RFC 8288 `Link` of a list answer: self, first and next (keyset cursors only go forward,
    so `first` stands in for `prev`). Path-absolute, so they hold through the gateway too."""
    query = [(k, v) for k, v in parse_qsl(query_string, keep_blank_values=True) if k != "cursor"]

    def target(cursor: str | None) -> str:
        params = urlencode(query + ([("cursor", cursor)] if cursor else []))
        return f"{path}?{params}" if params else path

    cursor = dict(parse_qsl(query_string)).get("cursor")
    links = [f'<{target(cursor)}>; rel="self"', f'<{target(None)}>; rel="first"']
    if next_cursor:
        links.append(f'<{target(next_cursor)}>; rel="next"')
    return ", ".join(links)


def encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([str(v) for v in values])).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
    except Exception:
        raise InvalidInput([("cursor", "not a cursor this API issued")], where="query") from None
    if not isinstance(values, list) or len(values) != size or not all(isinstance(v, str) and "\x00" not in v for v in values):
        raise InvalidInput([("cursor", "not a cursor this API issued")], where="query")
    return values


def _typed(value: str, col: sa.ColumnElement) -> Any:
    """A cursor value as its column's Python type; one the API never issued is a 400, not a database error."""
    try:
        kind = col.type.python_type
    except NotImplementedError:
        kind = str
    try:
        if kind is dt.datetime:
            instant = dt.datetime.fromisoformat(value)
            if getattr(col.type, "timezone", False) and instant.tzinfo is None:
                instant = instant.replace(tzinfo=dt.timezone.utc)
            return instant
        if kind is dt.date:
            return dt.date.fromisoformat(value)
        if kind is uuid.UUID:
            return uuid.UUID(value)
        if kind is int:
            number = int(value)
            if not -(2**63) <= number < 2**63:
                raise ValueError(value)
            return number
        if kind is float:
            number = float(value)
            if not math.isfinite(number):
                raise ValueError(value)
            return number
    except ValueError:
        raise InvalidInput([("cursor", "not a cursor this API issued")], where="query") from None
    return value


async def paginate(
    session: AsyncSession,
    query: sa.Select,
    order_by: list[sa.ColumnElement],
    limit: int,
    cursor: str | None,
) -> tuple[list[Any], str | None]:
    """Run `query` ordered by `order_by` (ascending, last column unique) after `cursor`."""
    if cursor:
        values = decode_cursor(cursor, len(order_by))
        typed = [sa.literal(_typed(v, col), col.type) for v, col in zip(values, order_by, strict=True)]
        query = query.where(sa.tuple_(*order_by) > sa.tuple_(*typed))
    rows = (await session.execute(query.order_by(*order_by).limit(limit + 1))).all()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor([_value(last, col) for col in order_by])
    return rows, next_cursor


async def paginate_entities(
    session: AsyncSession, query: sa.Select, order_by: list[sa.ColumnElement], limit: int, cursor: str | None
) -> tuple[list[Any], str | None]:
    """`paginate` for a query that selects one ORM entity: the entities themselves."""
    rows, next_cursor = await paginate(session, query, order_by, limit, cursor)
    return [r[0] for r in rows], next_cursor


def _value(row: Any, col: sa.ColumnElement) -> Any:
    mapping = row._mapping
    if col in mapping:
        return mapping[col]
    key = getattr(col, "key", None) or getattr(col, "name", None)
    if key in mapping:
        return mapping[key]
    entity = row[0]  # an ORM entity selected whole
    return getattr(entity, key)
