"""Tables of complexes (a batch of identical relocatable homes) and their units."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.inventory.app.db import Base


class Complex(Base):
    """A complex: identical flexwoningen bought and placed together (e.g. an RVB lot of 48)."""

    __tablename__ = "complexes"
    __table_args__ = (sa.Index("ix_complexes_investor_org_created", "investor_org", "created_at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    short_code: Mapped[str] = mapped_column(sa.String(16), nullable=False, unique=True)
    investor_org: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    supplier: Mapped[str | None] = mapped_column(sa.String(200))
    unit_count: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    typology: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    layers: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False)
    floor_area_m2: Mapped[float] = mapped_column(sa.Float, nullable=False)
    bedrooms: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False)
    modules_per_unit: Mapped[float] = mapped_column(sa.Float, nullable=False)
    zelfstandig: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    bbl_level: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    composition_changed: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    rechtens_verkregen_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    beng_compliant: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    energy_label: Mapped[str | None] = mapped_column(sa.String(5))
    build_year: Mapped[int | None] = mapped_column(sa.SmallInteger)
    technical_lifetime_yr: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False)
    depreciation_yr: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False)
    build_cost_eur_per_unit: Mapped[float | None] = mapped_column(sa.Float)
    rent_eur_month: Mapped[float | None] = mapped_column(sa.Float)
    min_group_size: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)
    doelgroepen: Mapped[list[str]] = mapped_column(ARRAY(sa.String(40)), nullable=False, default=list)
    rthf: Mapped[dict | None] = mapped_column(JSONB)  # RthfSubsidy
    sft: Mapped[dict | None] = mapped_column(JSONB)  # SftSubsidy
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


class Unit(Base):
    """One home (woning) of a complex, with a serial `<short>-001` and its status."""

    __tablename__ = "units"
    __table_args__ = (sa.UniqueConstraint("complex_id", "seq", name="uq_units_complex_seq"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    complex_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("complexes.id", ondelete="CASCADE"), nullable=False
    )
    seq: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    serial: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())
