"""`herplaatsing up` on the embedded default: all four services ready, clean stop, data kept."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil
import pytest

from herplaatsing.embedded import port_open


def _four_free_ports() -> int:
    for base in range(18000, 19000, 10):
        if not any(port_open(base + i) for i in range(4)):
            return base
    raise RuntimeError("no free ports")


def _start(home: Path, base: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "NATS_URL")}
    return subprocess.Popen(
        [sys.executable, "-m", "herplaatsing.cli", "up", "--home", str(home), "--base-port", str(base)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_ready(proc: subprocess.Popen, base: int, timeout: float = 150) -> list[str]:
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip())
        if "press Ctrl-C" in line:
            for i in range(4):
                r = httpx.get(f"http://127.0.0.1:{base + i}/readyz", timeout=5)
                assert r.status_code == 200, r.text
            return lines
    raise AssertionError("system did not come up:\n" + "\n".join(lines))


def _stop(proc: subprocess.Popen) -> list[str]:
    children = psutil.Process(proc.pid).children(recursive=True)
    assert len(children) >= 6  # postgres, nats-server, four services
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0
    gone, alive = psutil.wait_procs(children, timeout=15)
    assert not alive, f"left behind: {[p.pid for p in alive]}"
    return out.splitlines()


def _kill_nats_and_see_it_restarted(proc: subprocess.Popen, base: int) -> None:
    """The runner supervises its NATS like the services: killed, it comes back on the same port."""
    def nats_children() -> list[psutil.Process]:
        return [p for p in psutil.Process(proc.pid).children() if p.name() == "nats-server" and p.status() != psutil.STATUS_ZOMBIE]

    (victim,) = nats_children()
    victim.kill()
    deadline = time.monotonic() + 30
    while not any(p.pid != victim.pid for p in nats_children()):
        assert time.monotonic() < deadline, "nats-server was not restarted"
        time.sleep(0.2)
    deadline = time.monotonic() + 30
    while httpx.get(f"http://127.0.0.1:{base + 1}/readyz", timeout=5).json()["status"] != "ready":
        assert time.monotonic() < deadline, "inventory did not reconnect to the restarted NATS"
        time.sleep(0.5)


@pytest.mark.slow
def test_up_runs_the_whole_system_on_the_embedded_default_and_stops_cleanly():
    home = Path(tempfile.mkdtemp(prefix="herplaatsing-up-"))
    home.chmod(0o755)
    base = _four_free_ports()
    first = _start(home, base)
    try:
        lines = _wait_ready(first, base)
        _kill_nats_and_see_it_restarted(first, base)
    finally:
        if first.poll() is None:
            tail = _stop(first)
    assert any("created" in line for line in lines), lines
    assert any(line.endswith("NATS exited with -9; restarting") for line in tail), tail
    assert tail[-1].endswith("stopped")
    for i in range(4):
        assert not port_open(base + i)

    second = _start(home, base)  # a second `up` finds the same data
    try:
        lines = _wait_ready(second, base)
    finally:
        if second.poll() is None:
            _stop(second)
    migrated = [line for line in lines if line.startswith("migrated")]
    assert len(migrated) == 3 and not any("created" in line for line in migrated), migrated
