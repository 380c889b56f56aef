"""API shapes of the organisations registry: investors (registered here) and municipalities (CBS, read-only)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from shared.domain import Role



def _not_a_gemeentecode(value: str) -> str:
    if value[:2].upper() == "GM" and value[2:].isdigit():
        raise ValueError("GMxxxx is a municipality's CBS code; municipalities are not registered here")
    return value


ORGANISATION_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]{1,99}$"  # an investor's id; a CBS gemeentecode fits it too
OrganisationIdText = Annotated[str, StringConstraints(pattern=ORGANISATION_ID_PATTERN), AfterValidator(_not_a_gemeentecode)]
KvkNumber = Annotated[str, StringConstraints(pattern=r"^[0-9]{8}$")]
Email = Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Phone = Annotated[str, StringConstraints(min_length=6, max_length=30, pattern=r"^\+?[0-9][0-9 ()-]{4,28}[0-9]$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class OrganisationKind(StrEnum):
    """What kind of organisation: an investor's kind, or a municipality (gemeente, from the CBS list)."""

    woningcorporatie = "woningcorporatie"
    belegger = "belegger"
    gemeente_als_eigenaar = "gemeente_als_eigenaar"  # a municipality that owns homes, acting as investor
    gemeente = "gemeente"  # a municipality offering plots (read-only, CBS reference data)


INVESTOR_KINDS = (OrganisationKind.woningcorporatie, OrganisationKind.belegger, OrganisationKind.gemeente_als_eigenaar)


def _investor_kind(kind: OrganisationKind) -> OrganisationKind:
    if kind not in INVESTOR_KINDS:
        raise ValueError("an investor is a woningcorporatie, belegger or gemeente_als_eigenaar (municipalities come from the CBS list)")
    return kind


InvestorKind = Annotated[
    OrganisationKind,
    AfterValidator(_investor_kind),
    Field(description="woningcorporatie, belegger or gemeente_als_eigenaar (a municipality owning homes)."),
]


class OrganisationCreate(BaseModel):
    """Register an investor organisation (the marktmeester)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"id": "wc-woonbron", "name": "Woonbron", "kvk_number": "24227093", "kind": "woningcorporatie",
                                         "contact_email": "flexwonen@woonbron.nl", "contact_phone": "010 4398000"}]},
    )

    id: OrganisationIdText = Field(description="The organisation as its users' `org` claim names it: letters, digits and hyphens.")
    name: Name
    kvk_number: KvkNumber = Field(description="The KvK number: 8 digits.")
    kind: InvestorKind
    contact_email: Email | None = None
    contact_phone: Phone | None = None


class OrganisationUpdate(BaseModel):
    """Change an investor organisation; `active: false` deactivates it (its users are refused), `true` reactivates it."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"active": False}, {"contact_phone": "+31 10 439 8000"}]})

    name: Name | None = None
    kvk_number: KvkNumber | None = None
    kind: InvestorKind | None = None
    contact_email: Email | None = None
    contact_phone: Phone | None = None
    active: bool | None = None


class Organisation(BaseModel):
    """A party: an investor organisation of the registry, or a municipality of the CBS reference data."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"id": "wc-woonbron", "role": "investor", "name": "Woonbron", "kvk_number": "24227093",
                                         "kind": "woningcorporatie", "contact_email": "flexwonen@woonbron.nl",
                                         "contact_phone": "010 4398000", "active": True, "version": 1}]},
    )

    id: str = Field(description="The `org` of its users' tokens: an investor's id, or a municipality's CBS gemeentecode.")
    role: Role = Field(description="investor or municipality.")
    name: str
    kvk_number: str | None = Field(description="8 digits (investors); null for municipalities.")
    kind: OrganisationKind
    contact_email: str | None
    contact_phone: str | None
    active: bool = Field(description="Whether its users may act (a deactivated organisation's tokens are refused).")
    version: int = Field(description="Bumped by every change; the `ETag`.")
