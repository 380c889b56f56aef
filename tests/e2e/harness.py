"""The running system for end-to-end tests: each service a separate process.

Fresh databases on the test PostgreSQL server, a private JetStream stream and subject
prefix (on the test NATS server, or on nats-servers the test owns so it can restart,
wipe or partition them), and the four services under uvicorn on free ports.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx

from herplaatsing import testing
from herplaatsing.embedded import NatsServer, ServiceProcess, free_port, port_open
from herplaatsing.migrations import upgrade
from herplaatsing.registry import SERVICES, STATEFUL, upstream_env
from shared.config import DEV_JWT_SECRET, ServiceSettings
from shared.db import with_database
from shared.web.identity import mint_user_token


class SystemUnderTest:
    def __init__(self, workdir: Path, nats_urls: str | None = None, today: str | None = None) -> None:
        self.workdir = Path(workdir)
        self.tag = uuid.uuid4().hex[:10]
        self.nats_url = nats_urls or testing.NATS_URL
        self.stream = f"E2E_{self.tag.upper()}"
        self.prefix = f"e{self.tag}"
        self.today = today
        self.db_urls = {svc: with_database(testing.PG_SERVER, f"e2e_{svc}_{self.tag}") for svc in STATEFUL}
        self.ports = {svc: free_port() for svc in SERVICES}
        self.procs: dict[str, ServiceProcess] = {}
        self.settings = ServiceSettings(jwt_secret=DEV_JWT_SECRET)
        self.extra_env: dict[str, str] = {}  # e.g. STREAM_REPLICAS=3 on a cluster

    # -- lifecycle

    def create_databases(self) -> None:
        import asyncio

        for svc, url in self.db_urls.items():
            name = url.rsplit("/", 1)[1]
            asyncio.run(testing._admin_execute(f'CREATE DATABASE "{name}"'))
            upgrade(svc, url)

    def env(self, svc: str) -> dict[str, str]:
        env = {
            "NATS_URL": self.nats_url,
            "STREAM_NAME": self.stream,
            "SUBJECT_PREFIX": self.prefix,
            "ENVIRONMENT": "test",
            "LOG_JSON": "true",
            "OUTBOX_POLL_INTERVAL_S": "0.1",
            "STREAM_CHECK_INTERVAL_S": "2",
            "CONSUMER_FETCH_TIMEOUT_S": "0.5",
            # a killed consumer's unacknowledged deliveries come back after this (default 30 s)
            "CONSUMER_ACK_WAIT_S": "5",
            # the expiry signal every second, so a moved clock shows within the test's patience
            "EXPIRY_SCAN_INTERVAL_S": "1",
            # tests poll the gateway; its per-caller rate limit is not what they exercise
            "RATE_LIMIT_PER_S": "1000",
            "RATE_LIMIT_BURST": "1000",
        }
        if self.today:
            env["TODAY"] = self.today
        env.update(self.extra_env)
        if SERVICES[svc].stateful:
            env["DATABASE_URL"] = self.db_urls[svc]
        else:
            env.update(upstream_env({s: f"http://127.0.0.1:{port}" for s, port in self.ports.items()}))
        return env

    def start(self, *services: str) -> None:
        names = services or tuple(SERVICES)
        for svc in names:
            self.procs[svc] = ServiceProcess(svc, self.ports[svc], self.env(svc), self.workdir / "logs").start()
        for svc in names:
            self.procs[svc].wait_ready(timeout=90)

    def kill(self, svc: str) -> None:
        """SIGKILL: no shutdown hooks, in-flight work lost as in a crash."""
        self.procs[svc].stop(kill=True)

    def restart(self, svc: str) -> None:
        self.procs[svc].stop()
        self.start(svc)

    def stop(self) -> None:
        for proc in self.procs.values():
            with contextlib.suppress(Exception):
                proc.stop(kill=True)
        import asyncio

        for url in self.db_urls.values():
            with contextlib.suppress(Exception):
                asyncio.run(testing.drop(url))
        if any(port_open(int(url.rsplit(":", 1)[1])) for url in self.nats_url.split(",")):
            with contextlib.suppress(Exception):
                self.delete_stream(timeout=3)

    # -- reaching behind the API (faults, and checks no endpoint exposes)

    def delete_stream(self, timeout: float = 10.0) -> bool:
        """The broker loses every acknowledged message of this system (as a wiped store would)."""
        import asyncio

        import nats
        from nats.js.errors import NotFoundError

        async def go() -> bool:
            nc = await nats.connect(servers=self.nats_url.split(","), connect_timeout=timeout, max_reconnect_attempts=2)
            try:
                return await nc.jetstream(timeout=timeout).delete_stream(self.stream)
            except NotFoundError:
                return False
            finally:
                await nc.close()

        return asyncio.run(go())

    def stream_info(self, timeout: float = 10.0):  # noqa: ANN201 - nats.js.api.StreamInfo
        import asyncio

        import nats

        async def go():  # noqa: ANN202
            nc = await nats.connect(servers=self.nats_url.split(","), connect_timeout=timeout)
            try:
                return await nc.jetstream(timeout=timeout).stream_info(self.stream)
            finally:
                await nc.close()

        return asyncio.run(go())

    def stream_leader(self) -> str:
        """The name of the server leading this system's stream (on a cluster)."""
        info = self.stream_info()
        assert info.cluster is not None and info.cluster.leader, f"stream {self.stream} has no leader: {info.cluster}"
        return info.cluster.leader

    def sql(self, svc: str, query: str) -> list[tuple]:
        """Rows of a read-only query on a service's own database."""
        import asyncio

        import asyncpg

        async def go() -> list[tuple]:
            conn = await asyncpg.connect(self.db_urls[svc].replace("postgresql+asyncpg://", "postgresql://"))
            try:
                return [tuple(r) for r in await conn.fetch(query)]
            finally:
                await conn.close()

        return asyncio.run(go())

    # -- calling it

    @property
    def gateway(self) -> str:
        return f"http://127.0.0.1:{self.ports['gateway']}/api/v1"

    def token(self, role: str, org: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {mint_user_token(self.settings, f'{role}-{org}', role, org)}"}

    def client(self, role: str, org: str | None = None) -> httpx.Client:
        headers = self.token(role, org) if role != "anonymous" else {}
        return httpx.Client(base_url=self.gateway, headers=headers, timeout=30)

    def logs(self, svc: str) -> str:
        path = self.workdir / "logs" / f"{svc}.log"
        return path.read_text(errors="replace") if path.exists() else ""


def wait_for(check, timeout: float = 60.0, interval: float = 0.25, what: str = "condition"):  # noqa: ANN001
    """Poll a synchronous check until it returns something truthy."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            last = check()
            if last:
                return last
        time.sleep(interval)
    raise AssertionError(f"{what} not met within {timeout}s (last: {last!r})")


@contextlib.contextmanager
def nats_cluster(workdir: Path, size: int = 3) -> Iterator[list[NatsServer]]:
    """A JetStream cluster on loopback ports (stream replicas 3 need 3 nodes)."""
    cluster_ports = [free_port() for _ in range(size)]
    servers = [
        NatsServer(workdir / f"n{i}", name=f"n{i}", cluster={"port": cluster_ports[i], "routes": cluster_ports, "name": "e2e"})
        for i in range(size)
    ]
    for server in servers:
        server.start()
    try:
        yield servers
    finally:
        for server in servers:
            server.stop()
