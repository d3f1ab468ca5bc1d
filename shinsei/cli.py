"""The ``shinsei`` command. Each stage contributes its commands; this file only wires them.

Errors become exit codes here, at one boundary: a definition or input
problem prints its message and exits 2; anything unexpected is a bug and
keeps its traceback.
"""

from __future__ import annotations

import logging
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from flows.cli import demo_command, serve_command
from forms.cli import app as forms_app
from legacy.cli import app as legacy_app
from ocr.cli import extract_command
from returns.cli import app as letters_app
from review.cli import review_app
from robots.cli import key_command
from samples.cli import samples_app
from shinsei.errors import ShinseiError
from shinsei.privacy import install_log_masking
from validators.cli import process_command

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="shinsei (申請): read, check and key mailed municipal application forms.",
    pretty_exceptions_enable=False,
)

audit_app = typer.Typer(no_args_is_help=True, help="The append-only audit log.")
app.add_typer(audit_app, name="audit")
app.add_typer(forms_app, name="forms")
app.add_typer(letters_app, name="letters")
app.add_typer(review_app, name="review")
app.add_typer(legacy_app, name="legacy")
app.add_typer(samples_app, name="samples")
app.command("key")(key_command)
app.command("extract")(extract_command)
app.command("process")(process_command)
app.command("serve")(serve_command)
app.command("demo")(demo_command)


@app.command("intake")
def intake_command(
    inbox: Annotated[list[Path], typer.Argument(help="Scan files or folders of scans.")],
    batch: Annotated[str, typer.Option(help="Batch id, e.g. 2020-06-01.")],
    receipt_date: Annotated[
        str, typer.Option(help="Date the mail was received (受付日), YYYY-MM-DD.")
    ] = "",
) -> None:
    """Register every scan file of INBOX in the ledger (duplicates once, bad files as failed)."""
    from intake import intake_inbox
    from store import Ledger

    received = date.fromisoformat(receipt_date) if receipt_date else date.today()
    report = intake_inbox(inbox, batch, received, Ledger())
    typer.echo(f"batch {batch}: {len(report.registered)} registered")
    for path, first in report.duplicates:
        typer.echo(f"  duplicate: {path} (same file as {first})")
    for path, reason in report.failed:
        typer.echo(f"  failed: {path}: {reason}")
    for path in report.skipped:
        typer.echo(f"  skipped (not a scan file): {path}")


@audit_app.command("verify")
def audit_verify() -> None:
    """Recompute the audit log's hash chain; exit 1 if any row was edited or removed."""
    from store import Ledger

    report = Ledger().verify_audit()
    for problem in report.problems:
        typer.echo(f"TAMPERED: {problem}", err=True)
    if not report.ok:
        raise typer.Exit(1)
    typer.echo(f"audit log intact: {report.rows} rows, chain verified")


def main() -> None:
    """Entry point of the ``shinsei`` command."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # Every HTTP request to the Prefect server is not news to an operator.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    install_log_masking()
    try:
        app()
    except ShinseiError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
