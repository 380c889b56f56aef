"""Listing municipalities: filter by province, keyset-paginate by code."""

from __future__ import annotations

from services.sites.app.municipalities import repository as repo
from services.sites.app.municipalities.schemas import Centroid
from services.sites.app.municipalities.schemas import Municipality as MunicipalityOut
from shared.reference import Municipality
from shared.web.pagination import decode_cursor, encode_cursor
from shared.web.problems import InvalidInput, not_found
from shared.web.mapping import to_schema


def to_api(m: Municipality) -> MunicipalityOut:
    return to_schema(MunicipalityOut, m, centroid=Centroid(lat=m.lat, lon=m.lon))


def list_page(province: str | None, limit: int, cursor: str | None) -> tuple[list[MunicipalityOut], str | None]:
    if province is not None and not repo.province_exists(province):
        raise InvalidInput([("province", f"{province} is not a province code (PV20..PV31)")], where="query")
    after = decode_cursor(cursor, 1)[0] if cursor else ""
    items = [m for m in repo.all_sorted() if m.code > after and (province is None or m.province_code == province)]
    page = items[:limit]
    next_cursor = encode_cursor([page[-1].code]) if len(items) > limit else None
    return [to_api(m) for m in page], next_cursor


def get(code: str) -> MunicipalityOut:
    m = repo.get(code)
    if m is None:
        raise not_found("municipality", code)
    return to_api(m)
