"""The registry of organisations: the marktmeester registers, changes and deactivates investors;
municipalities are the CBS gemeenten (shared.reference), listed in the same shape, read-only.

Listing merges both in one order (by id, bytewise),
so one cursor — the last id — pages through both.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.app.organisations import repository
from services.inventory.app.organisations.models import Organisation as OrganisationRow
from services.inventory.app.organisations.schemas import Organisation, OrganisationCreate, OrganisationKind, OrganisationUpdate
from shared.domain import Role
from shared.reference import Municipality, municipalities
from shared.web.concurrency import require_current
from shared.web.problems import InvalidInput, ProblemError, conflict, not_found


def investor(row: OrganisationRow) -> Organisation:
    return Organisation(
        id=row.id, role=Role.investor, name=row.name, kvk_number=row.kvk_number, kind=OrganisationKind(row.kind),
        contact_email=row.contact_email, contact_phone=row.contact_phone, active=row.active, version=row.version,
    )


def municipality(item: Municipality) -> Organisation:
    return Organisation(
        id=item.code, role=Role.municipality, name=item.name, kvk_number=None, kind=OrganisationKind.gemeente,
        contact_email=None, contact_phone=None, active=True, version=1,
    )


async def get(session: AsyncSession, org_id: str) -> Organisation:
    if org_id in municipalities():
        return municipality(municipalities()[org_id])
    row = await repository.get(session, org_id)
    if row is None:
        raise not_found("organisation", org_id)
    return investor(row)


async def page(
    session: AsyncSession, *, role: Role | None, active: bool | None, limit: int, after_id: str | None
) -> list[Organisation]:
    """Up to `limit + 1` organisations after `after_id` (the extra one tells whether there is a next page)."""
    items: list[Organisation] = []
    if role in (None, Role.investor):
        items += [investor(row) for row in await repository.after(session, after_id, active=active, limit=limit + 1)]
    if role in (None, Role.municipality) and active is not False:
        items += [municipality(m) for code, m in sorted(municipalities().items()) if after_id is None or code > after_id][: limit + 1]
    return sorted(items, key=lambda o: o.id)[: limit + 1]


async def register(session: AsyncSession, body: OrganisationCreate) -> OrganisationRow:
    if await repository.get(session, body.id) is not None:
        raise conflict(f"An organisation with id {body.id} is already registered.")
    await _kvk_free(session, body.kvk_number, None)
    row = OrganisationRow(
        id=body.id, name=body.name, kvk_number=body.kvk_number, kind=body.kind.value,
        contact_email=body.contact_email, contact_phone=body.contact_phone, active=True, version=1,
    )
    repository.add(session, row)
    await session.flush()
    return row


async def change(session: AsyncSession, org_id: str, body: OrganisationUpdate, if_match: str | None) -> OrganisationRow:
    if org_id in municipalities():
        raise conflict(f"{org_id} is a municipality from the CBS reference data; it cannot be changed here.")
    row = await repository.get(session, org_id, for_update=True)
    if row is None:
        raise not_found("organisation", org_id)
    require_current(if_match, row.version)
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    for required in ("name", "kvk_number", "kind", "active"):
        if required in changes and changes[required] is None:
            raise InvalidInput([(required, "may not be null")])
    if changes.get("kvk_number") not in (None, row.kvk_number):
        await _kvk_free(session, changes["kvk_number"], row.id)
    for name, value in changes.items():
        setattr(row, name, value.value if isinstance(value, OrganisationKind) else value)
    if changes:
        row.version += 1
    await session.flush()
    return row


async def _kvk_free(session: AsyncSession, kvk_number: str, own_id: str | None) -> None:
    holder = await repository.kvk_holder(session, kvk_number)
    if holder is not None and holder != own_id:
        raise ProblemError(409, "Conflict", f"KvK number {kvk_number} is already registered for organisation {holder}.")
