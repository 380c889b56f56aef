"""Tables every stateful service carries in its own database (and its own Alembic history).

- outbox: events written in the same transaction as the state change they describe;
  kept after publishing (retention) so the broker is never the only copy.
- processed_events: the inbox; one row per consumed event id, in the handler's transaction.
- dead_letters: poison messages and messages that ran out of deliveries; open until the
  marktmeester retries them (re-handled through the inbox) or resolves them.
- idempotency_keys: first responses to POSTs that carried an Idempotency-Key.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID


@dataclass(frozen=True)
class BusTables:
    outbox: sa.Table
    processed_events: sa.Table
    dead_letters: sa.Table
    idempotency_keys: sa.Table


def define_bus_tables(metadata: sa.MetaData) -> BusTables:
    outbox = sa.Table(
        "outbox",
        metadata,
        sa.Column("seq", sa.BigInteger, sa.Identity(), primary_key=True),  # publish order
        sa.Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
        sa.Column("event_type", sa.String(120), nullable=False),
        sa.Column("aggregate_id", sa.String(120), nullable=False),
        sa.Column("payload", JSONB, nullable=False),  # the whole CloudEvent
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stream_seq", sa.BigInteger, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Index("ix_outbox_unpublished", "seq", postgresql_where=sa.text("published_at IS NULL")),
        sa.Index("ix_outbox_published_at", "published_at"),
    )
    processed = sa.Table(
        "processed_events",
        metadata,
        sa.Column("consumer", sa.String(120), primary_key=True),
        sa.Column("event_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("event_type", sa.String(120), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        # NULL: handled (or ignored); "refused": a business refusal, acknowledged once with its reason
        sa.Column("outcome", sa.String(20), nullable=True),
        sa.Column("detail", sa.Text, nullable=True),
    )
    dead = sa.Table(
        "dead_letters",
        metadata,
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("consumer", sa.String(120), nullable=False),
        sa.Column("event_id", sa.String(120), nullable=True),
        sa.Column("subject", sa.String(250), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("deliveries", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),  # first seen
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("status", sa.String(12), nullable=False, server_default="open"),  # open | retried | resolved
        sa.Column("resolved_by", sa.String(200), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.CheckConstraint("status IN ('open', 'retried', 'resolved')", name="status_known"),
        sa.Index("ix_dead_letters_open", "id", postgresql_where=sa.text("status = 'open'")),
    )
    idem = sa.Table(
        "idempotency_keys",
        metadata,
        sa.Column("principal", sa.String(200), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer, nullable=False),
        sa.Column("response", JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    return BusTables(outbox, processed, dead, idem)
