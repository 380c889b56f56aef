"""Issue 13 for matching: cursors the API never issued are a 400 on its lists, never a database error."""

from __future__ import annotations

import pytest

from herplaatsing.testing import headers_for
from shared.domain import Role
from shared.web.pagination import encode_cursor


@pytest.mark.parametrize("path", ["/api/v1/proposals", "/api/v1/matching/runs"])
async def test_cursors_the_api_never_issued_are_400(app_client, settings, path):
    for cursor in (encode_cursor(["nope", "nope"]), encode_cursor(["2026-01-01T00:00:00+00:00", "x"]), encode_cursor(["a\x00", "b"]), "~~~"):
        r = await app_client.get(path, params={"cursor": cursor}, headers=headers_for(settings, Role.marktmeester))
        assert r.status_code == 400, (path, cursor, r.text)
        assert r.json()["invalidParams"][0]["name"] == "cursor"
