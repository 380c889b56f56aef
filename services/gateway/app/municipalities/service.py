"""The municipality list, served from the shared CBS reference data (no upstream call)."""

from __future__ import annotations

from services.gateway.app.municipalities.schemas import Municipality
from shared.reference import municipalities, provinces
from shared.web.pagination import decode_cursor, encode_cursor
from shared.web.problems import InvalidInput, not_found


def _as_schema(code: str) -> Municipality:
    m = municipalities()[code]
    return Municipality(
        code=m.code, name=m.name, province_code=m.province_code, province_name=m.province_name, lat=m.lat, lon=m.lon
    )


def list_municipalities(*, province: str | None, limit: int, cursor: str | None) -> tuple[list[Municipality], str | None]:
    """Ordered by code; the cursor is the last code of the previous page."""
    if province is not None and province not in provinces():
        raise InvalidInput([("province", f"{province} is not one of the 12 CBS province codes")], where="query")
    after = decode_cursor(cursor, 1)[0] if cursor else ""
    codes = sorted(c for c, m in municipalities().items() if province is None or m.province_code == province)
    remaining = [c for c in codes if c > after]
    page = remaining[:limit]
    next_cursor = encode_cursor([page[-1]]) if len(remaining) > limit else None
    return [_as_schema(c) for c in page], next_cursor


def get_municipality(code: str) -> Municipality:
    if code not in municipalities():
        raise not_found("municipality", code)
    return _as_schema(code)
