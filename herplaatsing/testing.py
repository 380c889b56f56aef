"""Pytest plugin (loaded with `-p herplaatsing.testing`): real PostgreSQL and NATS for every test.

- By default a test's database is one migrated database per service per run, and the test
  runs inside an outer transaction on one connection that is rolled back afterwards: every
  session the service opens on it is a SAVEPOINT (`join_transaction_mode="create_savepoint"`),
  so commits and rollbacks behave as usual but nothing survives the test. A teardown check
  compares every table's row count with the migrated state, so a leak fails the test that made it.
- Tests whose rows must be visible to other connections (relay, consumers, advisory locks,
  concurrent sessions, migrations) take `committed_databases`, or are marked
  `@pytest.mark.committed`: databases of their own, cloned from a migrated template; afterwards
  their tables are emptied for the next such test (dropped instead when the schema changed).
- Each test gets its own JetStream stream and subject prefix, so tests never see
  each other's events, and the stream is deleted afterwards.
Point TEST_DATABASE_URL / TEST_NATS_URL elsewhere to use other servers.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import nats
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

from shared.config import ServiceSettings
from shared.db import Database, async_url, database_name, with_database
from shared.domain import Role
from shared.web.identity import Principal, internal_headers

PG_SERVER = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
NATS_URL = os.environ.get("TEST_NATS_URL", "nats://127.0.0.1:4222")
RUN_ID = uuid.uuid4().hex[:8]

_templates: dict[str, str] = {}
_shared: dict[str, tuple[str, dict[str, int]]] = {}  # service -> (url, row count per table when migrated)
_shared_made: list[str] = []  # every shared database, also those replaced after a leak: dropped at the end


async def _admin_execute(*statements: str) -> None:
    engine = create_async_engine(async_url(PG_SERVER), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            for statement in statements:
                await conn.execute(sa.text(statement))
    finally:
        await engine.dispose()


async def migrated_template(service: str) -> str:
    """A database migrated to head, created once per test run and cloned per test."""
    if service not in _templates:
        from herplaatsing.migrations import upgrade

        name = f"tmpl_{service}_{RUN_ID}"
        await _admin_execute(f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"')
        await asyncio.to_thread(upgrade, service, with_database(PG_SERVER, name))
        _templates[service] = name
    return _templates[service]


async def fresh_database(service: str) -> str:
    template = await migrated_template(service)
    name = f"t_{service}_{uuid.uuid4().hex[:10]}"
    await _admin_execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return with_database(PG_SERVER, name)


async def drop(url: str) -> None:
    await _admin_execute(f'DROP DATABASE IF EXISTS "{database_name(url)}" WITH (FORCE)')


# -- committed databases: dropping one costs a checkpoint (seconds on a busy machine), so after a
# test its tables are emptied and it is handed to the next test, unless its schema changed.

_recyclable: dict[str, list[str]] = {}  # service -> emptied committed databases
_head_state: dict[str, tuple[str, list[str], str]] = {}  # service -> (schema, tables empty at head, other rows)

_SCHEMA = """
SELECT md5(string_agg(item, E'\\n' ORDER BY item)) FROM (
  SELECT format('rel %s %s %s %s %s', c.oid::regclass, c.relkind, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull)
    FROM pg_class c LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
   WHERE c.relnamespace::regnamespace::text NOT LIKE 'pg\\_%' AND c.relnamespace::regnamespace::text <> 'information_schema'
  UNION ALL SELECT format('con %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid)) FROM pg_constraint
   WHERE connamespace::regnamespace::text NOT LIKE 'pg\\_%' AND connamespace::regnamespace::text <> 'information_schema'
  UNION ALL SELECT format('def %s %s', adrelid::regclass, pg_get_expr(adbin, adrelid)) FROM pg_attrdef
  UNION ALL SELECT format('idx %s', indexdef) FROM pg_indexes WHERE schemaname NOT LIKE 'pg\\_%'
  UNION ALL SELECT format('enum %s %s', enumtypid::regtype, enumlabel) FROM pg_enum
  UNION ALL SELECT format('fn %s', oid::regprocedure) FROM pg_proc
   WHERE pronamespace::regnamespace::text NOT LIKE 'pg\\_%' AND pronamespace::regnamespace::text <> 'information_schema'
  UNION ALL SELECT format('trg %s %s', tgrelid::regclass, tgname) FROM pg_trigger WHERE NOT tgisinternal
  UNION ALL SELECT format('ns %s', nspname) FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%'
) items(item)
"""


async def _state(conn: AsyncConnection) -> tuple[str, list[str], str]:
    """Schema fingerprint, tables without rows, and a checksum of the rows of the other tables."""
    counts = await _row_counts(conn)
    empty, filled = [t for t, n in counts.items() if n == 0], [t for t, n in counts.items() if n]
    rows = ""
    if filled:
        query = " UNION ALL ".join(f"SELECT '{t}', md5(string_agg(r::text, ',' ORDER BY r::text)) FROM {t} r" for t in filled)
        rows = repr(sorted((await conn.execute(sa.text(query))).all()))
    return str(await conn.scalar(sa.text(_SCHEMA))), empty, rows


async def _on_database(url: str, work: Callable[[AsyncConnection], Awaitable[Any]]) -> Any:
    engine = create_async_engine(async_url(url), poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            return await work(conn)
    finally:
        await engine.dispose()


async def committed_database(service: str) -> str:
    """A migrated database of its own for one test: an emptied one from an earlier test, or a new clone."""
    if _recyclable.get(service):
        return _recyclable[service].pop()
    url = await fresh_database(service)
    if service not in _head_state:
        _head_state[service] = await _on_database(url, _state)
    return url


async def recycle(service: str, url: str) -> None:
    """Empty the tables a test filled and keep the database for the next test; drop it if anything else changed."""
    schema, empty, rows = _head_state[service]

    async def reset(conn: AsyncConnection) -> bool:
        await conn.execute(
            sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        )
        await conn.execute(sa.text("SET lock_timeout = '5s'"))
        if empty:
            await conn.execute(sa.text(f"TRUNCATE {', '.join(empty)} RESTART IDENTITY CASCADE"))
        return await _state(conn) == (schema, empty, rows)

    try:
        clean = await _on_database(url, reset)
    except Exception:  # noqa: BLE001 - whatever went wrong, a new database is the way out
        clean = False
    if clean:
        _recyclable.setdefault(service, []).append(url)
    else:
        await drop(url)


async def _row_counts(conn: AsyncConnection) -> dict[str, int]:
    tables = (
        await conn.scalars(
            sa.text(
                "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables "
                "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1"
            )
        )
    ).all()
    if not tables:
        return {}
    query = " UNION ALL ".join(f"SELECT '{table}', count(*) FROM {table}" for table in tables)
    return {table: count for table, count in (await conn.execute(sa.text(query))).all()}


async def shared_database(service: str) -> tuple[str, dict[str, int]]:
    """The run's one migrated database of a service for rolled-back tests, and its row counts."""
    if service not in _shared:
        template = await migrated_template(service)
        name = f"rb_{service}_{RUN_ID}_{len(_shared_made)}"
        _shared_made.append(name)
        await _admin_execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        url = with_database(PG_SERVER, name)

        async def prepare(conn: AsyncConnection) -> dict[str, int]:
            for statement in _ADVANCING_NOW:
                await conn.exec_driver_sql(statement.replace("{database}", name))
            return await _row_counts(conn)

        _shared[service] = (url, await _on_database(url, prepare))
    return _shared[service]


# A rolled-back test is one transaction, in which now() stands still; with a request per
# transaction it advances. So in the shared databases now() is the wall clock: a function
# earlier on the search path for queries, and column defaults (bound to pg_catalog.now).
_ADVANCING_NOW = (
    "CREATE SCHEMA test_clock",
    "CREATE FUNCTION test_clock.now() RETURNS timestamptz LANGUAGE sql VOLATILE AS 'SELECT clock_timestamp()'",
    'ALTER DATABASE "{database}" SET search_path = test_clock, pg_catalog, "$user", public',
    """DO $$ DECLARE c record; BEGIN
      FOR c IN SELECT table_schema, table_name, column_name FROM information_schema.columns WHERE column_default = 'now()' LOOP
        EXECUTE format('ALTER TABLE %I.%I ALTER COLUMN %I SET DEFAULT clock_timestamp()', c.table_schema, c.table_name, c.column_name);
      END LOOP;
    END $$""",
)


_embedded: list[Any] = []


def pytest_configure(config: pytest.Config) -> None:
    """No server on the default ports and none named: start embedded ones (fresh machine)."""
    config.addinivalue_line("markers", "committed: needs rows committed for other connections: fresh databases, no rollback")
    global PG_SERVER, NATS_URL
    from herplaatsing.embedded import NatsServer, PostgresServer, port_open, usable_home

    if "TEST_DATABASE_URL" not in os.environ and not port_open(5432):
        import tempfile
        from pathlib import Path

        home = usable_home(Path(tempfile.mkdtemp(prefix="herplaatsing-test-")))
        home.chmod(0o755)
        server = PostgresServer(home).start()
        _embedded.append(server)
        PG_SERVER = os.environ["TEST_DATABASE_URL"] = server.url
    if "TEST_NATS_URL" not in os.environ and not port_open(4222):
        import tempfile
        from pathlib import Path

        server = NatsServer(Path(tempfile.mkdtemp(prefix="herplaatsing-test-nats-"))).start()
        _embedded.append(server)
        NATS_URL = os.environ["TEST_NATS_URL"] = server.url


def pytest_unconfigure(config: pytest.Config) -> None:
    for server in reversed(_embedded):
        server.stop()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    names = [*_templates.values(), *_shared_made, *(database_name(url) for urls in _recyclable.values() for url in urls)]
    if names:
        try:
            asyncio.run(_admin_execute(*[f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)' for n in names]))
        except Exception as exc:  # noqa: BLE001 - say so, but do not fail a finished run
            session.config.get_terminal_writer().line(f"test databases left behind ({exc!r}): {', '.join(names)}", yellow=True)


@dataclass
class BusNamespace:
    """A private stream + subject prefix on the shared NATS server."""

    nats_url: str
    stream_name: str
    subject_prefix: str

    def settings_overrides(self) -> dict[str, Any]:
        return {
            "nats_url": self.nats_url,
            "stream_name": self.stream_name,
            "subject_prefix": self.subject_prefix,
            "stream_duplicate_window_s": 30.0,
        }


@pytest.fixture
async def bus_namespace() -> AsyncIterator[BusNamespace]:
    tag = uuid.uuid4().hex[:10]
    ns = BusNamespace(NATS_URL, f"T_{tag.upper()}", f"t{tag}")
    yield ns
    nc = await nats.connect(NATS_URL)
    with contextlib.suppress(Exception):
        await nc.jetstream().delete_stream(ns.stream_name)
    await nc.close()


DatabaseFactory = Callable[[str], Awaitable[str]]


@contextlib.asynccontextmanager
async def _fresh_databases() -> AsyncIterator[DatabaseFactory]:
    made: list[tuple[str, str]] = []

    async def make(service: str) -> str:
        url = await committed_database(service)
        made.append((service, url))
        return url

    yield make
    for service, url in made:
        with contextlib.suppress(Exception):
            await recycle(service, url)


@pytest.fixture
async def committed_databases() -> AsyncIterator[DatabaseFactory]:
    """`url = await committed_databases("sites")`: a migrated database of the test's own, emptied after it."""
    async with _fresh_databases() as make:
        yield make


@pytest.fixture
async def databases(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[DatabaseFactory]:
    """`url = await databases("sites")`: the service's database for this test, rolled back afterwards.

    Every `Database` opened on that url binds its sessions to one connection in an outer
    transaction: sessions run as savepoints, so they must not overlap (no concurrent sessions).
    Marked `committed`: fresh databases instead (see `committed_databases`).
    """
    if request.node.get_closest_marker("committed"):
        async with _fresh_databases() as make_fresh:
            yield make_fresh
        return
    joined: dict[str, AsyncConnection] = {}
    expected: dict[str, dict[str, int]] = {}
    open_database = Database.__init__

    def join_outer_transaction(db: Database, url: str, *args: Any, **kw: Any) -> None:
        open_database(db, url, *args, **kw)
        conn = joined.get(database_name(url))
        if conn is not None:
            db.sessions.configure(bind=conn, join_transaction_mode="create_savepoint")

    monkeypatch.setattr(Database, "__init__", join_outer_transaction)

    async def make(service: str) -> str:
        url, counts = await shared_database(service)
        name = database_name(url)
        if name not in joined:
            conn = await create_async_engine(async_url(url), poolclass=NullPool).connect()
            await conn.begin()
            joined[name], expected[name] = conn, counts
        return url

    yield make
    leaks = []
    for name, conn in joined.items():
        try:
            await conn.rollback()
            counts = await _row_counts(conn)
            leaked = [f"{name}.{t}: {expected[name].get(t)} -> {n}" for t, n in counts.items() if expected[name].get(t) != n]
        finally:
            await conn.close()
            await conn.engine.dispose()
        if leaked:  # the next test gets a clean database, so only this one fails
            del _shared[next(service for service, (url, _) in _shared.items() if database_name(url) == name)]
            leaks += leaked
    assert not leaks, f"rows committed outside the test's rolled-back transaction: {leaks}"


@pytest.fixture
def make_settings(bus_namespace: BusNamespace) -> Callable[..., ServiceSettings]:
    """`make_settings(SitesSettings, database_url=url, **overrides)` with the test's bus namespace."""

    def make(cls: type[ServiceSettings], **overrides: Any) -> ServiceSettings:
        values = {"environment": "test", "log_json": False, **bus_namespace.settings_overrides(), **overrides}
        return cls(**values)

    return make


def headers_for(settings: ServiceSettings, role: Role | str | None, org: str | None = None, sub: str = "tester") -> dict[str, str]:
    """Internal identity headers as the gateway would send them."""
    principal = Principal(sub=sub, role=Role(role) if role else None, org=org)
    return internal_headers(settings, principal)


@contextlib.asynccontextmanager
async def running_app(app: Any, base_url: str = "http://service") -> AsyncIterator[httpx.AsyncClient]:
    """Run an app's lifespan (relay, consumers, background loops) and give an in-process client."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url, timeout=30) as client:
            yield client


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Poll an async check until it returns something truthy (events are asynchronous)."""
    deadline = asyncio.get_running_loop().time() + timeout
    last: Any = None
    while True:
        try:
            last = await check()
            if last:
                return last
        except AssertionError:
            if asyncio.get_running_loop().time() > deadline:
                raise
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last: {last!r})")
        await asyncio.sleep(interval)


@dataclass(frozen=True)
class DocumentedRules:
    """The `x-rules` of one operation's request body (see shared.web.rules), with the schema's valid examples."""

    method: str
    path: str
    schema: str
    examples: list[dict[str, Any]]
    rules: list[dict[str, Any]]


def documented_rules(openapi: dict[str, Any]) -> dict[tuple[str, str], DocumentedRules]:
    """Every operation whose JSON request body schema lists cross-field rules, keyed by (METHOD, path)."""
    schemas = openapi.get("components", {}).get("schemas", {})
    found: dict[tuple[str, str], DocumentedRules] = {}
    for path, item in openapi.get("paths", {}).items():
        for method, op in item.items():
            ref = (((op.get("requestBody") or {}).get("content") or {}).get("application/json") or {}).get("schema", {}).get("$ref")
            if not ref:
                continue
            name = ref.rsplit("/", 1)[-1]
            schema = schemas[name]
            if schema.get("x-rules"):
                found[(method.upper(), path)] = DocumentedRules(method.upper(), path, name, schema.get("examples", []), schema["x-rules"])
    return found


def problem_fields(response: httpx.Response) -> set[str]:
    """The field names of a 400 problem's invalidParams (asserting it is one)."""
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return {p["name"] for p in response.json()["invalidParams"]}
