"""Complex schemas and list filters: the inventory service's own models, so the public OpenAPI is typed.

The filters carry the inventory's names (`services/inventory/app/complexes/endpoints.py`);
the raw query string is forwarded, a test compares the names with the inventory's OpenAPI.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from services.inventory.app.complexes.schemas import ComplexCreate, ComplexOut, UnitOut, Valuation
from shared.domain import BblLevel, Typology, UnitStatus

Complex = ComplexOut
Unit = UnitOut

InvestorOrgQuery = Annotated[
    str | None,
    Query(alias="investorOrg", max_length=100, description="Only this investor's complexes (marktmeester).", examples=["wc-woonbron"]),
]
TypologyQuery = Annotated[Typology | None, Query(description="Only complexes of this typology.")]
BblLevelQuery = Annotated[BblLevel | None, Query(alias="bblLevel", description="Only complexes built to this Bbl level.")]
RthfQuery = Annotated[bool | None, Query(description="Only complexes with (true) or without (false) an RTHF guarantee.")]
UnitStatusQuery = Annotated[UnitStatus | None, Query(description="Only the homes in this state.")]
SaleEurPerUnitQuery = Annotated[
    float | None,
    Query(alias="saleEurPerUnit", ge=0, le=1_000_000, description="Expected sale price per home; default the book value.", examples=[95000]),
]

__all__ = [
    "BblLevelQuery",
    "Complex",
    "ComplexCreate",
    "InvestorOrgQuery",
    "RthfQuery",
    "SaleEurPerUnitQuery",
    "TypologyQuery",
    "Unit",
    "UnitStatusQuery",
    "Valuation",
]
