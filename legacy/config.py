"""Settings and fault knobs of the legacy stand-in, from flags or the environment.

| variable | meaning | default |
|---|---|---|
| ``SHINSEI_LEGACY_DB`` | the stand-in's SQLite file | ``<SHINSEI_DATA_DIR>/legacy/legacy.db`` |
| ``SHINSEI_LEGACY_USERS`` | accounts, ``id:password,id:password`` | none (nobody can log in) |
| ``SHINSEI_LEGACY_LATENCY`` | seconds added to every page | ``0.05`` |
| ``SHINSEI_LEGACY_RECEIPT_LATENCY`` | extra seconds before 登録完了 (after the commit) | ``0`` |
| ``SHINSEI_LEGACY_BUSY_RATE`` | share of pages answered 「只今大変混み合っております」 | ``0`` |
| ``SHINSEI_LEGACY_DROP_RATE`` | share of requests whose connection is dropped | ``0`` |
| ``SHINSEI_LEGACY_SESSION_IDLE_MINUTES`` | idle minutes before a session expires | ``20`` |
| ``SHINSEI_LEGACY_SESSION_LIFETIME_MINUTES`` | minutes after login it expires | none |
| ``SHINSEI_LEGACY_MAINTENANCE`` | daily windows ``HH:MM-HH:MM[,HH:MM-HH:MM]`` (local time) | none |
| ``SHINSEI_LEGACY_FAULT_SEED`` | seed of the fault dice, for repeatable runs | random |

Half of the dropped connections are dropped before the request is handled,
half after it was handled and before the answer is sent -- the second kind
is the one that tests a robot's idempotency (the registration is committed,
the robot never hears of it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path

from shinsei.config import settings
from shinsei.errors import ConfigError

#: Seconds the stand-in waits before every page unless told otherwise: an
#: intranet system of the 2000s on a loaded application server.
DEFAULT_LATENCY = 0.05


@dataclass(frozen=True)
class Faults:
    """What goes wrong, and how often (see the module docstring)."""

    latency: float = DEFAULT_LATENCY
    receipt_latency: float = 0.0
    busy_rate: float = 0.0
    drop_rate: float = 0.0
    session_idle_minutes: float = 20.0
    session_lifetime_minutes: float | None = None
    maintenance: tuple[tuple[time, time], ...] = ()
    seed: int | None = None

    def __post_init__(self) -> None:
        for name in ("busy_rate", "drop_rate"):
            rate = getattr(self, name)
            if not 0.0 <= rate <= 1.0:
                raise ConfigError(f"{name} must be between 0 and 1, not {rate}")
        if self.latency < 0 or self.receipt_latency < 0:
            raise ConfigError("latencies cannot be negative")


@dataclass(frozen=True)
class LegacyConfig:
    """Everything the stand-in needs to start."""

    db_path: Path
    users: dict[str, str] = field(default_factory=dict)
    faults: Faults = field(default_factory=Faults)


def parse_users(text: str) -> dict[str, str]:
    """``"robot1:pass1,clerk:pass2"`` → ``{"robot1": "pass1", "clerk": "pass2"}``."""
    users: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        user, sep, password = item.partition(":")
        if not sep or not user or not password:
            raise ConfigError(
                f"a legacy user must be written id:password, not {item.split(':')[0]!r}"
            )
        users[user] = password
    return users


def parse_windows(text: str) -> tuple[tuple[time, time], ...]:
    """``"02:00-04:30,12:00-12:10"`` → the daily maintenance windows."""
    windows: list[tuple[time, time]] = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        try:
            start, end = (time.fromisoformat(t.strip()) for t in item.split("-"))
        except ValueError as exc:
            raise ConfigError(f"maintenance window {item!r}: write HH:MM-HH:MM") from exc
        windows.append((start, end))
    return tuple(windows)


def in_window(now: time, windows: tuple[tuple[time, time], ...]) -> bool:
    """Whether ``now`` falls in one of the daily windows (a window may cross midnight)."""
    for start, end in windows:
        if start <= end:
            if start <= now < end:
                return True
        elif now >= start or now < end:
            return True
    return False


def _env_float(name: str, default: float | None) -> float | None:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from exc


def config_from_env() -> LegacyConfig:
    """The configuration the environment describes (flags override it in ``legacy.cli``)."""
    db = os.environ.get("SHINSEI_LEGACY_DB")
    db_path = Path(db) if db else settings().data_dir / "legacy" / "legacy.db"
    seed = os.environ.get("SHINSEI_LEGACY_FAULT_SEED")
    faults = Faults(
        latency=_env_float("SHINSEI_LEGACY_LATENCY", DEFAULT_LATENCY) or 0.0,
        receipt_latency=_env_float("SHINSEI_LEGACY_RECEIPT_LATENCY", 0.0) or 0.0,
        busy_rate=_env_float("SHINSEI_LEGACY_BUSY_RATE", 0.0) or 0.0,
        drop_rate=_env_float("SHINSEI_LEGACY_DROP_RATE", 0.0) or 0.0,
        session_idle_minutes=_env_float("SHINSEI_LEGACY_SESSION_IDLE_MINUTES", 20.0) or 20.0,
        session_lifetime_minutes=_env_float("SHINSEI_LEGACY_SESSION_LIFETIME_MINUTES", None),
        maintenance=parse_windows(os.environ.get("SHINSEI_LEGACY_MAINTENANCE", "")),
        seed=int(seed) if seed else None,
    )
    return LegacyConfig(
        db_path=db_path,
        users=parse_users(os.environ.get("SHINSEI_LEGACY_USERS", "")),
        faults=faults,
    )
