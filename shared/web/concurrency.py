"""Optimistic concurrency (NLGov): a resource's `version` as its `ETag`, `If-Match` on changes."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import Header
from pydantic import BaseModel

from shared.web.problems import ProblemError

IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=200,
        description="The `ETag` of the version you read: a change to a newer version is refused (412). Omit to change unconditionally.",
    ),
]


# For an endpoint's `responses`: the 200 that carries the ETag.
ETAG_RESPONSE: dict[str, Any] = {
    "headers": {
        "ETag": {
            "description": "The resource's version: send it as `If-Match` to change exactly this version.",
            "schema": {"type": "string", "examples": ['"3"']},
        }
    }
}


def etag(version: int) -> str:
    return f'"{version}"'


def content_etag(representation: BaseModel) -> str:
    """A strong ETag of a resource without a version column: a digest of its representation."""
    return f'"{hashlib.sha256(representation.model_dump_json().encode()).hexdigest()[:20]}"'


def require_current(if_match: str | None, version: int) -> None:
    """412 when `If-Match` names none of the current version (checked under the row lock)."""
    if if_match is None:
        return
    tags = {tag.strip() for tag in if_match.split(",")}
    if "*" not in tags and etag(version) not in tags:
        raise ProblemError(
            412, "Precondition failed", f"The resource changed since it was read: it is at version {version} now ({etag(version)})."
        )
