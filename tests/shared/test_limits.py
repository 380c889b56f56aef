"""Limits before work (issue 13): oversized or hostile input is a 4xx problem naming the part, never a 500."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI, Request
from pydantic import BaseModel

from shared.logs import correlation_id, valid_correlation_id
from shared.web.app import RequestContextMiddleware
from shared.web.limits import InputLimitsMiddleware, Limits
from shared.web.problems import install_problem_handlers

LIMITS = Limits(max_body_bytes=4096, max_json_depth=8, max_string_chars=100)
SEEN: list[object] = []


def _app(*, inspect_json: bool = True) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/things")
    async def create(request: Request) -> dict:
        body = await request.body()
        SEEN.append(body)
        return {"size": len(body), "cid": correlation_id.get()}

    @app.get("/things")
    async def search(q: str | None = None) -> dict:
        return {"q": q}

    app.add_middleware(InputLimitsMiddleware, limits=LIMITS, inspect_json=inspect_json)
    app.add_middleware(RequestContextMiddleware, service="test")
    return app


@pytest.fixture
async def client():
    SEEN.clear()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()), base_url="http://t") as c:
        yield c


def _param(r: httpx.Response) -> dict:
    assert r.headers["content-type"] == "application/problem+json", r.text
    return r.json()["invalidParams"][0]


async def test_an_oversized_header_is_431_naming_it(client):
    r = await client.post("/things", json={}, headers={"X-Big": "x" * 9000})
    assert r.status_code == 431 and _param(r)["name"] == "x-big" and not SEEN


async def test_a_long_or_odd_correlation_id_is_replaced_never_copied(client):
    for bad in ("x" * 129, "a b", "é".encode(), "-leading"):
        r = await client.post("/things", json={}, headers={"X-Correlation-ID": bad})
        assert r.status_code == 200 and r.json()["cid"] not in (bad, "é") and r.headers["X-Correlation-ID"] == r.json()["cid"]
    good = "req-42:abc/def"
    r = await client.post("/things", json={}, headers={"X-Correlation-ID": good})
    assert r.json()["cid"] == good
    assert valid_correlation_id("x" * 1_100_000) is None


async def test_a_body_beyond_the_limit_is_413_before_it_is_read(client):
    r = await client.post("/things", content=b"[" + b"1," * 3000 + b"1]", headers={"content-type": "application/json"})
    assert r.status_code == 413 and _param(r)["name"] == "body" and not SEEN


async def test_a_streamed_body_without_length_is_counted_and_refused():
    async def chunks():
        for _ in range(10):
            yield b"x" * 1000

    for inspect in (True, False):
        SEEN.clear()
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app(inspect_json=inspect)), base_url="http://t") as c:
            r = await c.post("/things", content=chunks(), headers={"content-type": "application/octet-stream"})
        assert r.status_code == 413, r.text
        assert not SEEN


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        (b'{"a": ' + b"[" * 20 + b"]" * 20 + b"}", "a.0.0.0.0.0.0.0", "too_deep"),
        (b"[" * 2000 + b"]" * 2000, "body", "json_invalid"),
        (b'{"name": "x\\u0000y"}', "name", "nul"),
        (b'{"n\\u0000": 1}', "n\\0", "nul"),
        (b'{"name": "' + b"x" * 101 + b'"}', "name", "too_long"),
        (b'{"n": 9223372036854775808}', "n", "out_of_range"),
        (b'{"n": -9223372036854775809}', "n", "out_of_range"),
        (b'{"n": 99999999999999999999999999}', "n", "out_of_range"),
        (b'{"n": [1, 1e999]}', "body", "json_invalid"),
        (b'{"n": 1e300}', "n", "out_of_range"),
    ],
)
async def test_hostile_json_is_400_naming_the_field(client, body, field, code):
    r = await client.post("/things", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400, r.text
    assert (_param(r)["name"], _param(r)["code"]) == (field, code)
    assert not SEEN


async def test_ordinary_json_passes_unchanged(client):
    body = b'{"n": 9223372036854775807, "f": 1.5, "s": "ok", "l": [[1, 2], [3, 4]]}'
    r = await client.post("/things", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 200 and SEEN == [body]


async def test_nul_bytes_in_the_query_or_path_are_400(client):
    r = await client.get("/things?q=a%00b")
    assert r.status_code == 400 and _param(r) == {"name": "q", "in": "query", "code": "nul", "reason": "contains a NUL byte"}
    assert (await client.get("/things/%00")).status_code == 400
    assert (await client.get("/things?q=" + "x" * 5000)).status_code == 414
    assert (await client.get("/things?q=fine")).json() == {"q": "fine"}


@pytest.mark.parametrize("query", ["q=bad&q=fine", "q=fine&q=bad", "q=a&%71=b", "q=&q="])
async def test_a_query_key_given_twice_is_400_naming_it_whichever_value_comes_first(client, query):
    r = await client.get(f"/things?{query}")
    assert r.status_code == 400
    assert _param(r) == {"name": "q", "in": "query", "code": "repeated", "reason": "given more than once; give it once"}
    assert (await client.get("/things?q=fine&other=1")).json() == {"q": "fine"}  # distinct keys pass


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "u", "role": ["investor"], "org": "x"},
        {"sub": "u", "role": "investor", "org": {"a": 1}},
        {"sub": "u", "role": "investor", "org": 7},
        {"sub": "u" * 201, "role": "investor", "org": "x"},
        {"sub": "u", "role": "municipality", "org": "Utrecht"},
        {"sub": "u", "role": "municipality", "org": "GM03441"},
    ],
)
def test_tokens_with_odd_claims_are_401(claims):
    import jwt

    from shared.config import ServiceSettings
    from shared.web.identity import AuthError, USER_AUDIENCE, verify_internal_token, verify_user_token

    settings = ServiceSettings(environment="test")
    user = jwt.encode({**claims, "exp": 4_000_000_000, "aud": USER_AUDIENCE}, settings.jwt_secret.get_secret_value(), "HS256")
    with pytest.raises(AuthError):
        verify_user_token(settings, user)
    internal = jwt.encode({**claims, "exp": 4_000_000_000, "aud": "herplaatsing-internal"}, settings.internal_secret.get_secret_value(), "HS256")
    with pytest.raises(AuthError):
        verify_internal_token(settings, internal)


def test_an_internal_token_without_exp_is_refused():
    import jwt

    from shared.config import ServiceSettings
    from shared.web.identity import AuthError, verify_internal_token

    settings = ServiceSettings(environment="test")
    claims = {"sub": "u", "role": "marktmeester", "aud": "herplaatsing-internal"}
    with pytest.raises(AuthError):
        verify_internal_token(settings, jwt.encode(claims, settings.internal_secret.get_secret_value(), "HS256"))
    assert verify_internal_token(settings, jwt.encode({**claims, "exp": 4_000_000_000}, settings.internal_secret.get_secret_value(), "HS256")).sub == "u"


class Note(BaseModel):
    note: str | None = None


@pytest.mark.parametrize("raw", [b"{not json", b"\xff\xfe", b"[" * 5000 + b"]" * 5000, b'{"note":' * 5000 + b'"x"' + b"}" * 5000])
async def test_a_body_parsed_without_the_inspection_is_a_400_naming_the_body(raw):
    """The gateway parses its own operations' bodies without inspecting them first (it forwards the rest unread)."""
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/notes")
    async def resolve(body: Note) -> dict:
        return body.model_dump()

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        r = await c.post("/notes", content=raw, headers={"content-type": "application/json"})
        assert r.status_code == 400 and r.json()["invalidParams"] == [
            {"name": "body", "in": "body", "code": "json_invalid", "reason": r.json()["invalidParams"][0]["reason"]}
        ]
        assert (await c.post("/notes", json={"note": "fine"})).json() == {"note": "fine"}
