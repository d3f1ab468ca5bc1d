"""The robots' account on the legacy system: from the environment or a Prefect Secret block.

``SHINSEI_LEGACY_USER`` / ``SHINSEI_LEGACY_PASSWORD``, or the name of a
Prefect ``Secret`` block (``--secret-block`` or ``SHINSEI_LEGACY_SECRET_BLOCK``)
whose value is ``{"user": ..., "password": ...}`` or ``"user:password"``.
Never from code.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from shinsei.errors import ConfigError


@dataclass(frozen=True)
class Credentials:
    """A legacy-system account (the password never appears in a repr or a log)."""

    user: str
    password: str = field(repr=False)


def _parse(value: Any, source: str) -> Credentials:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            user, sep, password = value.partition(":")
            if sep and user and password:
                return Credentials(user, password)
    if isinstance(value, dict) and value.get("user") and value.get("password"):
        return Credentials(str(value["user"]), str(value["password"]))
    raise ConfigError(f"{source}: expected {{'user': ..., 'password': ...}} or 'user:password'")


def load_credentials(secret_block: str | None = None) -> Credentials:
    """The account to log in with; :class:`ConfigError` when none is configured."""
    block = secret_block or os.environ.get("SHINSEI_LEGACY_SECRET_BLOCK")
    if block:
        from prefect.blocks.system import Secret

        try:
            secret: Any = Secret.load(block)
        except ValueError as exc:
            raise ConfigError(f"Prefect Secret block {block!r} cannot be loaded: {exc}") from exc
        return _parse(secret.get(), f"Prefect Secret block {block!r}")
    user = os.environ.get("SHINSEI_LEGACY_USER")
    password = os.environ.get("SHINSEI_LEGACY_PASSWORD")
    if not user or not password:
        raise ConfigError(
            "no legacy-system account: set SHINSEI_LEGACY_USER and SHINSEI_LEGACY_PASSWORD, "
            "or name a Prefect Secret block (--secret-block / SHINSEI_LEGACY_SECRET_BLOCK)"
        )
    return Credentials(user, password)
