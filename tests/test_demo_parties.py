"""The demo's investor organisations register cleanly: valid registrations, unique ids and KvK numbers."""

from __future__ import annotations

from services.inventory.app.organisations.schemas import OrganisationCreate
from shared.demo_parties import BELEGGERS, CORPORATIES, demo_organisation
from shared.reference import municipalities


def test_every_demo_investor_is_a_valid_registration_with_its_own_kvk_number() -> None:
    orgs = [*CORPORATIES, *BELEGGERS, *(f"gem-{code}" for code in municipalities())]
    registrations = [OrganisationCreate.model_validate(demo_organisation(org)) for org in orgs]
    assert len({r.kvk_number for r in registrations}) == len(orgs)
    assert {r.kind.value for r in registrations} == {"woningcorporatie", "belegger", "gemeente_als_eigenaar"}
    assert demo_organisation("bl-vesteda")["kind"] == "belegger" and demo_organisation("gem-GM0200")["kind"] == "gemeente_als_eigenaar"
