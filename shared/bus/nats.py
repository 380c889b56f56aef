"""NATS connection and the one JetStream stream (file storage, duplicate window)."""

from __future__ import annotations

import logging
import ssl
from typing import Any

import nats
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from shared.config import ServiceSettings

log = logging.getLogger(__name__)


async def connect(settings: ServiceSettings, name: str | None = None) -> NATS:
    async def on_error(exc: Exception) -> None:
        log.warning("nats error", extra={"error": repr(exc)})

    async def on_disconnect() -> None:
        log.warning("nats disconnected")

    async def on_reconnect() -> None:
        log.info("nats reconnected")

    credentials: dict[str, Any] = {}
    if settings.nats_user:
        password = settings.nats_password.get_secret_value() if settings.nats_password else None
        credentials.update(user=settings.nats_user, password=password)
    if settings.nats_tls_ca_file:
        credentials["tls"] = ssl.create_default_context(cafile=settings.nats_tls_ca_file)
    return await nats.connect(
        **credentials,
        servers=[s.strip() for s in settings.nats_url.split(",")],
        name=name or settings.service_name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        connect_timeout=5,
        allow_reconnect=True,
        error_cb=on_error,
        disconnected_cb=on_disconnect,
        reconnected_cb=on_reconnect,
    )


def stream_config(settings: ServiceSettings) -> StreamConfig:
    return StreamConfig(
        name=settings.stream_name,
        subjects=settings.stream_subjects,
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        num_replicas=settings.stream_replicas,
        duplicate_window=settings.stream_duplicate_window_s,
        max_age=settings.stream_max_age_days * 86400.0,
    )


async def ensure_stream(js: JetStreamContext, settings: ServiceSettings) -> bool:
    """Create or update the stream. Returns True when it had to be created (it was missing)."""
    config = stream_config(settings)
    try:
        await js.stream_info(settings.stream_name)
    except NotFoundError:
        await js.add_stream(config)
        log.info("stream created", extra={"stream": settings.stream_name})
        return True
    await js.update_stream(config)
    return False
