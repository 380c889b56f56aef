"""`herplaatsing up`: the whole system on one machine, as child processes.

Without DATABASE_URL / NATS_URL it starts the embedded PostgreSQL and NATS
(herplaatsing/embedded.py) in the home directory; with them it uses those servers.
Ctrl-C / SIGTERM stops everything; children also die with the runner (PDEATHSIG).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

from herplaatsing import registry
from herplaatsing.embedded import NatsServer, PostgresServer, ServiceProcess, usable_home
from herplaatsing.migrations import migrate_all, service_database_url


RESTART_LIMIT = 5
RESTART_WINDOW_S = 300.0


class SupervisionError(RuntimeError):
    """A child process keeps dying: the system stops instead of flapping forever."""


def token_command() -> str:
    """The token command as it can be typed: the venv's script by its full path (it is not on PATH)."""
    script = Path(sys.executable).parent / "herplaatsing"
    return f"{script} token" if script.exists() else f"{sys.executable} -m herplaatsing.cli token"


def say(message: str) -> None:
    print(f"[herplaatsing] {message}", flush=True)


class System:
    """The running system: servers (when embedded) and the four service processes."""

    def __init__(self, home: Path, base_port: int = registry.DEFAULT_BASE_PORT, today: str | None = None) -> None:
        self.demo_thread: threading.Thread | None = None
        self.home = usable_home(home)
        self.ports = registry.ports(base_port)
        self.today = today
        self.postgres: PostgresServer | None = None
        self.nats: NatsServer | None = None
        self.database_url = os.environ.get("DATABASE_URL")
        self.nats_url = os.environ.get("NATS_URL")
        self.services: dict[str, ServiceProcess] = {}

    def start_servers(self) -> None:
        if not self.database_url:
            say(f"starting embedded PostgreSQL in {self.home / 'pgdata'}")
            self.postgres = PostgresServer(self.home).start()
            self.database_url = self.postgres.url
        if not self.nats_url:
            say(f"starting embedded NATS JetStream in {self.home / 'nats-store'}")
            self.nats = NatsServer(self.home, name="nats").start()
            self.nats_url = self.nats.url
        say(f"PostgreSQL {self.database_url}")
        say(f"NATS {self.nats_url}")

    def service_env(self, service: str) -> dict[str, str]:
        assert self.database_url and self.nats_url
        env = {"NATS_URL": self.nats_url, "ENVIRONMENT": os.environ.get("ENVIRONMENT", "development")}
        if self.today:
            env["TODAY"] = self.today
        if registry.SERVICES[service].stateful:
            env["DATABASE_URL"] = service_database_url(self.database_url, service)
        else:
            env.update(registry.upstream_env({name: f"http://127.0.0.1:{port}" for name, port in self.ports.items()}))
        return env

    def start_services(self) -> None:
        for service, port in self.ports.items():
            self.services[service] = ServiceProcess(service, port, self.service_env(service), self.home / "logs").start()
        for service, proc in self.services.items():
            proc.wait_ready(timeout=90)
            say(f"{service:<9} ready on {proc.url}")

    def watch(self, stop: threading.Event) -> None:
        """Restart whatever died: a service (its state is in PostgreSQL and the outbox), and the
        embedded PostgreSQL or NATS (same port, same data; the services reconnect by themselves,
        and the outbox holds the events meanwhile). A child that keeps dying
        (RESTART_LIMIT times within RESTART_WINDOW_S) stops the whole system, loudly."""
        restarts: dict[str, list[float]] = {}
        while not stop.wait(2.0):
            for name, child in self.children():
                if child.proc is None or child.proc.poll() is None:
                    continue  # poll() also reaps it: no <defunct> left behind
                now = time.monotonic()
                recent = [t for t in restarts.get(name, []) if now - t < RESTART_WINDOW_S] + [now]
                restarts[name] = recent
                if len(recent) > RESTART_LIMIT:
                    raise SupervisionError(
                        f"{name} exited with {child.proc.returncode} {len(recent)} times within {RESTART_WINDOW_S:.0f}s; "
                        f"stopping everything (logs in {self.home})"
                    )
                say(f"{name} exited with {child.proc.returncode}; restarting")
                try:
                    child.start()
                except Exception as exc:  # noqa: BLE001 - counted as another exit on the next round
                    say(f"{name} did not restart: {exc}")

    def children(self) -> list[tuple[str, "NatsServer | PostgresServer | ServiceProcess"]]:
        servers = [("PostgreSQL", self.postgres), ("NATS", self.nats)]
        return [(n, s) for n, s in servers if s is not None] + list(self.services.items())

    def start_demo(self, stop: threading.Event, scale: float) -> None:
        """Load the demo data in the background once the services are ready, only into an empty system."""
        from herplaatsing.demo.loader import DemoLoadError, load_demo, system_is_empty

        gateway = f"http://127.0.0.1:{self.ports['gateway']}"

        def run() -> None:
            try:
                if not system_is_empty(gateway):
                    say("demo data: the system already holds homes, not loading it")
                    return
                say(f"loading the demo data (scale {scale:g}) through the gateway ...")
                report = load_demo(gateway, scale=scale, progress=sys.stderr.isatty(), stop=stop)
                say(f"demo data loaded: {report.describe()}")
            except DemoLoadError as exc:
                if not stop.is_set():
                    say(f"demo data not loaded: {exc}")
            except Exception as exc:  # noqa: BLE001 - the system keeps running without demo data
                if not stop.is_set():
                    say(f"demo data not loaded: {exc!r}")

        self.demo_thread = threading.Thread(target=run, name="demo-loader", daemon=True)
        self.demo_thread.start()

    def stop(self) -> None:
        if self.demo_thread is not None:
            self.demo_thread.join(timeout=15)  # the loader stops at its next request
        for proc in self.services.values():
            proc.stop()
        if self.nats is not None:
            self.nats.stop()
        if self.postgres is not None:
            self.postgres.stop()
        say("stopped")


def run_system(home: str, base_port: int = registry.DEFAULT_BASE_PORT, today: str | None = None, demo: bool = True, demo_scale: float = 0.5) -> int:
    system = System(Path(home), base_port, today)
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        system.start_servers()
        assert system.database_url
        migrate_all(system.database_url)
        system.start_services()
        gateway = f"http://127.0.0.1:{system.ports['gateway']}"
        say(f"the dashboard is at {gateway}/ (sign in with a demo identity)")
        say(f"the public API is at {gateway}/api/v1 (docs: {gateway}/docs)")
        say(f"a token: {token_command()} --role marktmeester")
        say("press Ctrl-C to stop")
        if demo:
            system.start_demo(stop, demo_scale)
        system.watch(stop)
        return 0
    except Exception as exc:  # noqa: BLE001 - report and clean up
        say(f"failed: {exc}")
        return 1
    finally:
        system.stop()


if __name__ == "__main__":
    sys.exit(run_system(os.environ.get("HERPLAATSING_HOME", ".herplaatsing")))
