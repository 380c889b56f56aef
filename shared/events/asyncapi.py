"""Export the event contract as an AsyncAPI 3.0 document (docs/asyncapi.json).

One channel per subject (its `address`), one `send` operation per channel (the system publishes
through its transactional outbox; outside consumers subscribe), one message per event type. Every
message is a CloudEvents 1.0 structured-mode JSON event whose `data` is the subject's model, with the
headers of the CloudEvents NATS binding (`Content-Type`) and JetStream's `Nats-Msg-Id`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic.json_schema import models_json_schema

from shared.config import API_CONTACT
from shared.events.envelope import STRUCTURED_CONTENT_TYPE, CloudEvent
from shared.events.models import EVENT_TYPES, producer_of

DOCUMENT_PATH = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.json"

HEADERS = {
    "type": "object",
    "required": ["Content-Type", "Nats-Msg-Id"],
    "properties": {
        "Content-Type": {
            "type": "string",
            "const": STRUCTURED_CONTENT_TYPE,
            "description": "CloudEvents NATS binding, structured content mode: the payload is the whole JSON event.",
        },
        "Nats-Msg-Id": {"type": "string", "description": "Equal to the CloudEvent id (JetStream de-duplication)."},
    },
}


def _name(event_type: str) -> str:
    return "".join(part.capitalize() for part in event_type.split("."))


def _summary(model: type) -> str:
    return (model.__doc__ or "").strip().splitlines()[0] if model.__doc__ else ""


def build_document() -> dict[str, Any]:
    models = [(m, "validation") for m in EVENT_TYPES.values()]
    _, defs = models_json_schema(models, ref_template="#/components/schemas/{model}")
    schemas: dict[str, Any] = dict(defs.get("$defs", {}))
    schemas["CloudEvent"] = CloudEvent.model_json_schema(ref_template="#/components/schemas/{model}")
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for event_type, model in EVENT_TYPES.items():
        name = _name(event_type)
        messages[name] = {
            "name": event_type,
            "title": model.__name__,
            "summary": _summary(model) or event_type,
            "contentType": "application/cloudevents+json",
            "correlationId": {"description": "Follows one request from service to service.", "location": "$message.payload#/correlationid"},
            "headers": HEADERS,
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
        channels[name] = {
            "address": event_type,
            "title": event_type,
            "description": f"Published by the {producer_of(event_type)} service through its transactional outbox "
            "(a deployment may put an environment prefix before the subject).",
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
        }
        operations[f"send{name}"] = {
            "action": "send",
            "title": f"{producer_of(event_type)} publishes {event_type}",
            "summary": _summary(model) or event_type,
            "channel": {"$ref": f"#/channels/{name}"},
            "messages": [{"$ref": f"#/channels/{name}/messages/{name}"}],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Herplaatsing events",
            "version": "1.1.0",
            "description": "CloudEvents 1.0 on one NATS JetStream stream (HERPLAATSING), structured content mode.",
            "contact": API_CONTACT,
        },
        "defaultContentType": "application/cloudevents+json",
        "servers": {
            "jetstream": {"host": "127.0.0.1:4222", "protocol": "nats", "description": "The embedded default's NATS server."}
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def render() -> str:
    return json.dumps(build_document(), indent=2, sort_keys=True, default=str) + "\n"


def write(path: Path = DOCUMENT_PATH) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(), encoding="utf-8")
    return path
