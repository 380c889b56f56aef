"""Parameters shared by the public operations."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="A retried request with the same key returns the first result and creates nothing twice.",
        examples=["5f0c1e0e-3c1f-4d7a-9a53-7c2f1b9e8a10"],
    ),
]
