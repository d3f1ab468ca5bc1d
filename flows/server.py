"""Starting (or finding) the local Prefect server and the legacy stand-in as background services.

Used by ``shinsei serve`` and the demo. Production points ``PREFECT_API_URL``
at its own server and the robots at the real legacy system; nothing here
runs then.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from shinsei.config import settings
from shinsei.errors import ConfigError

PREFECT_PORT = 4200


def quiet_prefect_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """Prefect settings every shinsei process uses: no telemetry, no update checks."""
    env = dict(os.environ if env is None else env)
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    env.setdefault("DO_NOT_TRACK", "1")
    env.setdefault("PREFECT_HOME", str(settings().data_dir / "prefect"))
    return env


def _healthy(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - loopback only
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@dataclass(frozen=True)
class Service:
    """A background service: its URL, and the process when this call started it."""

    url: str
    pid: int | None
    log: Path | None

    @property
    def started_here(self) -> bool:
        return self.pid is not None


def _start(cmd: list[str], env: dict[str, str], log: Path, health: str, timeout: float) -> int:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(  # noqa: S603 - our own executables
            cmd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # outlives the command that started it
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _healthy(health):
            return proc.pid
        if proc.poll() is not None:
            raise ConfigError(f"{cmd[0]} exited with {proc.returncode}; see {log}")
        time.sleep(0.5)
    proc.kill()
    raise ConfigError(f"{' '.join(cmd[:3])} did not answer within {timeout:.0f} s; see {log}")


def ensure_prefect_server(port: int = PREFECT_PORT, timeout: float = 90.0) -> Service:
    """The Prefect API URL, starting a local server with its UI if none answers there."""
    url = os.environ.get("PREFECT_API_URL") or f"http://127.0.0.1:{port}/api"
    if _healthy(url.rstrip("/") + "/health"):
        return Service(url, None, None)
    if "PREFECT_API_URL" in os.environ and not url.startswith("http://127.0.0.1"):
        raise ConfigError(f"the Prefect server at {url} does not answer")
    log = settings().data_dir / "logs" / "prefect-server.log"
    exe = Path(sys.executable).with_name("prefect")
    cmd = [str(exe), "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    pid = _start(cmd, quiet_prefect_env(), log, url + "/health", timeout)
    return Service(url, pid, log)


def ensure_legacy(
    port: int, users: str, *, timeout: float = 60.0, extra: list[str] | None = None
) -> Service:
    """The stand-in legacy system on ``port``, started (seeded on first start) if it is down."""
    url = f"http://127.0.0.1:{port}"
    if _healthy(url + "/login"):
        return Service(url, None, None)
    env = dict(os.environ, SHINSEI_LEGACY_USERS=users)
    log = settings().data_dir / "logs" / "legacy.log"
    exe = Path(sys.executable).with_name("shinsei")
    cmd = [str(exe), "legacy", "serve", "--port", str(port), *(extra or [])]
    pid = _start(cmd, env, log, url + "/login", timeout)
    return Service(url, pid, log)
