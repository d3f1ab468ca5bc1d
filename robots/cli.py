"""``shinsei key``: key the ready documents into the legacy system."""

from __future__ import annotations

import json
from typing import Annotated

import typer


def key_command(
    batch: Annotated[str | None, typer.Option(help="Only this batch.")] = None,
    contexts: Annotated[int, typer.Option(help="Parallel browser contexts (sessions).")] = 2,
    max_sessions: Annotated[
        int, typer.Option(help="Most sessions the legacy system allows this robot account.")
    ] = 4,
    only_failed: Annotated[
        bool, typer.Option(help="Retry only the documents that failed at keying.")
    ] = False,
    retries: Annotated[int, typer.Option(help="Attempts per document on system faults.")] = 8,
    backoff: Annotated[float, typer.Option(help="First backoff delay in seconds (doubles).")] = 0.5,
    max_backoff: Annotated[float, typer.Option(help="Longest backoff delay in seconds.")] = 15.0,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for a page or an action.")] = 20.0,
    legacy_url: Annotated[
        str | None, typer.Option(help="The legacy system [SHINSEI_LEGACY_URL].")
    ] = None,
    secret_block: Annotated[
        str | None,
        typer.Option(help="Prefect Secret block with the robot's account (else the environment)."),
    ] = None,
    trace: Annotated[
        bool,
        typer.Option(help="Trace a document from its first fault (kept if it fails)."),
    ] = True,
    headed: Annotated[bool, typer.Option(help="Show the browser (needs a display).")] = False,
) -> None:
    """Key every ready document into the legacy system (search first; exactly once)."""
    from robots.credentials import load_credentials
    from robots.keying import KeyingConfig, RetryPolicy, key_records
    from shinsei.config import settings

    config = KeyingConfig(
        legacy_url=legacy_url or settings().legacy_url,
        contexts=contexts,
        max_sessions=max_sessions,
        retry=RetryPolicy(attempts=retries, first_delay=backoff, max_delay=max_backoff),
        timeout=timeout,
        trace=trace,
        headless=not headed,
    )
    report = key_records(
        batch_id=batch,
        only_failed=only_failed,
        config=config,
        credentials=load_credentials(secret_block),
    )
    typer.echo(json.dumps(report.to_dict(), ensure_ascii=False))
    if report.failed:
        raise typer.Exit(1)
