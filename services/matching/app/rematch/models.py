"""Requests to re-solve waiting demand (herberekening), written in the same transaction as the fold."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from services.matching.app.db import Base


class RematchRequest(Base):
    """Waiting demand must be matched again: one placement's, or all of it (placement_id NULL).

    The matcher serves requests in coalesced batches and deletes exactly the rows it served in the
    transaction that writes their proposals: a crash in between leaves the request to be served again.
    """

    __tablename__ = "rematch_requests"
    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    placement_id: Mapped[uuid.UUID | None]
    reason: Mapped[str] = mapped_column(sa.String(60))
    requested_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
