"""Export the event contract as an AsyncAPI 2.6 document (docs/asyncapi.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic.json_schema import models_json_schema

from shared.events.envelope import CloudEvent
from shared.events.models import EVENT_TYPES, producer_of

DOCUMENT_PATH = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.json"


def build_document() -> dict[str, Any]:
    models = [(m, "validation") for m in EVENT_TYPES.values()]
    _, defs = models_json_schema(models, ref_template="#/components/schemas/{model}")
    schemas: dict[str, Any] = dict(defs.get("$defs", {}))
    envelope = CloudEvent.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas["CloudEvent"] = envelope
    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for event_type, model in EVENT_TYPES.items():
        name = "".join(part.capitalize() for part in event_type.split("."))
        messages[name] = {
            "name": event_type,
            "title": model.__name__,
            "summary": (model.__doc__ or "").strip().splitlines()[0] if model.__doc__ else event_type,
            "contentType": "application/cloudevents+json",
            "headers": {
                "type": "object",
                "properties": {"Nats-Msg-Id": {"type": "string", "description": "Equal to the CloudEvent id."}},
            },
            "payload": {
                "allOf": [
                    {"$ref": "#/components/schemas/CloudEvent"},
                    {
                        "type": "object",
                        "properties": {
                            "type": {"const": event_type},
                            "data": {"$ref": f"#/components/schemas/{model.__name__}"},
                        },
                    },
                ]
            },
        }
        channels[event_type] = {
            "description": f"Published by the {producer_of(event_type)} service through its transactional outbox.",
            "subscribe": {"operationId": f"on{name}", "message": {"$ref": f"#/components/messages/{name}"}},
        }
    return {
        "asyncapi": "2.6.0",
        "info": {
            "title": "Herplaatsing events",
            "version": "1.0.0",
            "description": "CloudEvents 1.0 on one NATS JetStream stream (HERPLAATSING).",
        },
        "defaultContentType": "application/cloudevents+json",
        "servers": {"jetstream": {"url": "nats://127.0.0.1:4222", "protocol": "nats"}},
        "channels": channels,
        "components": {"messages": messages, "schemas": schemas},
    }


def render() -> str:
    return json.dumps(build_document(), indent=2, sort_keys=True, default=str) + "\n"


def write(path: Path = DOCUMENT_PATH) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(), encoding="utf-8")
    return path
