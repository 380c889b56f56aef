"""Where a cross-field rule is also stated in JSON Schema (the `allOf` of its request schema), the statement
agrees with the rule: its violating example fails it and the schema's valid examples pass it."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

DOCUMENT = json.loads((Path(__file__).resolve().parents[1] / "docs" / "openapi.json").read_text(encoding="utf-8"))
SCHEMAS = DOCUMENT["components"]["schemas"]
STATED = [
    (name, rule, fragment)
    for name, schema in SCHEMAS.items()
    for rule, fragment in zip([r for r in schema.get("x-rules", []) if r.get("inSchema")], schema.get("allOf", []))
]


def test_rules_stated_in_json_schema_line_up_with_the_allof():
    for name, schema in SCHEMAS.items():
        stated = [r for r in schema.get("x-rules", []) if r.get("inSchema")]
        assert len(stated) == len(schema.get("allOf", [])), name
    assert {"SiteCreate", "ComplexCreate"} <= {name for name, _, _ in STATED}


@pytest.mark.parametrize(("name", "rule", "fragment"), STATED, ids=[f"{n}.{r['id']}" for n, r, _ in STATED])
def test_the_json_schema_statement_refuses_the_violating_example_and_takes_the_valid_ones(name, rule, fragment):
    validator = jsonschema.Draft202012Validator(fragment)
    assert not validator.is_valid(rule["example"])
    for example in SCHEMAS[name]["examples"]:
        assert validator.is_valid(example)


def test_a_half_coordinate_pair_is_refused_by_the_schema_too():
    validator = jsonschema.Draft202012Validator({"dependentRequired": SCHEMAS["LocationIn"]["dependentRequired"]})
    assert not validator.is_valid({"lat": 51.44}) and not validator.is_valid({"rd_y": 383200.0})
    assert all(validator.is_valid(e) for e in SCHEMAS["LocationIn"]["examples"])
