"""Cross-field rules of a request schema, written once: the OpenAPI `x-rules` list and its rendered description.

A JSON Schema cannot say "rent_eur_month is required when rthf is given, unless doelgroepen holds
ontheemden" in a way every client tool reads, so each such rule is listed on its schema as data:
an id, what it says, the (deepest) field the 400 names, the fields it reads, and a complete request
body that breaks only this rule. The same list is rendered into the schema's description for people,
and tests/test_documented_rules.py (per service) sends every example through the API.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CrossFieldRule:
    """One rule that spans fields (or depends on the caller): a violation is a 400 naming `field`."""

    id: str
    description: str
    field: str  # the field the 400's invalidParams names (the deepest one: `garantiekavel.cluster_id`)
    violating: dict[str, Any]  # a complete request body that breaks this rule and no other
    reads: tuple[str, ...] = ()  # the other fields the rule looks at
    caller: str | None = None  # the role the rule applies to, when it depends on who asks
    # the rule in JSON Schema (2020-12 if/then, not, ...) where it can be said there: added to the schema's allOf
    schema: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "description": self.description, "field": self.field}
        if self.reads:
            out["reads"] = list(self.reads)
        if self.caller:
            out["caller"] = self.caller
        out["example"] = self.violating
        if self.schema:
            out["inSchema"] = True  # also stated in the schema's allOf
        return out


def render(rules: Sequence[CrossFieldRule]) -> str:
    lines = ["", "", "Cross-field rules (also in `x-rules`, each with a violating example; a violation is a 400 naming the field):"]
    for r in rules:
        who = f" (caller: {r.caller})" if r.caller else ""
        lines.append(f"- `{r.id}`{who}: {r.description} Field: `{r.field}`.")
    return "\n".join(lines)


def documented(rules: Sequence[CrossFieldRule], examples: list[dict[str, Any]] | None = None):
    """A pydantic `json_schema_extra` that adds the valid `examples`, the `x-rules` list and the rendered rules."""

    def extra(schema: dict[str, Any], cls: type) -> None:
        if examples is not None:
            schema["examples"] = examples
        schema["x-rules"] = [r.as_json() for r in rules]
        stated = [r.schema for r in rules if r.schema]
        if stated:
            schema["allOf"] = [*schema.get("allOf", []), *stated]
        schema["description"] = (schema.get("description") or (cls.__doc__ or "").strip()) + render(rules)

    return extra


def with_changes(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """`base` with top-level fields replaced; a value of `...` removes the field."""
    out = {k: v for k, v in base.items() if k not in changes}
    out.update({k: v for k, v in changes.items() if v is not ...})
    return out
