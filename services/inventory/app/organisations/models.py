"""The registry of investor organisations (organisaties): who may act as an investor at all."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from services.inventory.app.db import Base


class Organisation(Base):
    """An investor organisation: a woningcorporatie, a belegger or a gemeente as owner of homes.

    `id` is the organisation as the identity provider's `org` claim names it (e.g. wc-woonbron);
    deactivated organisations stay (their complexes refer to them) but their users are refused.
    """

    __tablename__ = "organisations"

    id: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    kvk_number: Mapped[str] = mapped_column(sa.String(8), nullable=False, unique=True)
    kind: Mapped[str] = mapped_column(sa.String(30), nullable=False)
    contact_email: Mapped[str | None] = mapped_column(sa.String(254))
    contact_phone: Mapped[str | None] = mapped_column(sa.String(30))
    active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    version: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now(), onupdate=sa.func.now()
    )
