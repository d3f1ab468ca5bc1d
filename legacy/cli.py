"""``shinsei legacy serve``: run the stand-in legacy system (flags override the environment)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer

from legacy.config import config_from_env, parse_users, parse_windows

app = typer.Typer(
    no_args_is_help=True, help="The stand-in of the municipality's legacy web system."
)


@app.callback()
def _group() -> None:
    """The stand-in of the municipality's legacy web system (demo and tests)."""


@app.command("serve")
def serve_command(
    port: Annotated[int, typer.Option(help="TCP port; 0 picks a free one (printed).")] = 8800,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    db: Annotated[
        Path | None,
        typer.Option(help="SQLite file [SHINSEI_LEGACY_DB; <data dir>/legacy/legacy.db]."),
    ] = None,
    user: Annotated[
        list[str] | None,
        typer.Option(help="An account id:password (repeatable) [SHINSEI_LEGACY_USERS]."),
    ] = None,
    latency: Annotated[
        float | None,
        typer.Option(help="Seconds added to every page [SHINSEI_LEGACY_LATENCY; 0.05]."),
    ] = None,
    receipt_latency: Annotated[
        float | None,
        typer.Option(help="Extra seconds before the 登録完了 page, after the commit [0]."),
    ] = None,
    busy_rate: Annotated[
        float | None, typer.Option(help="Share of 「只今大変混み合っております」 pages, 0..1 [0].")
    ] = None,
    drop_rate: Annotated[
        float | None, typer.Option(help="Share of requests whose connection is dropped, 0..1 [0].")
    ] = None,
    session_idle_minutes: Annotated[
        float | None, typer.Option(help="Idle minutes before a session expires [20].")
    ] = None,
    session_lifetime_minutes: Annotated[
        float | None, typer.Option(help="Minutes after login a session expires [none].")
    ] = None,
    maintenance: Annotated[
        str | None, typer.Option(help="Daily maintenance windows HH:MM-HH:MM[,…] [none].")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the fault dice.")] = None,
    access_log: Annotated[bool, typer.Option(help="Log every request.")] = False,
) -> None:
    """Serve the stand-in (seeded from the resident registry on first start)."""
    from legacy.server import serve

    conf = config_from_env()
    faults = conf.faults
    overrides: dict[str, Any] = {
        "latency": latency,
        "receipt_latency": receipt_latency,
        "busy_rate": busy_rate,
        "drop_rate": drop_rate,
        "session_idle_minutes": session_idle_minutes,
        "session_lifetime_minutes": session_lifetime_minutes,
        "maintenance": parse_windows(maintenance) if maintenance is not None else None,
        "seed": seed,
    }
    faults = replace(faults, **{k: v for k, v in overrides.items() if v is not None})
    users = parse_users(",".join(user)) if user else conf.users
    if not users:
        typer.echo(
            "warning: no accounts (--user or SHINSEI_LEGACY_USERS); nobody can log in", err=True
        )
    conf = replace(conf, db_path=db or conf.db_path, users=users, faults=faults)
    serve(conf, host, port, access_log=access_log)
