"""``shinsei letters …``: produce the night's return letters, confirm a print batch was mailed."""

from __future__ import annotations

import getpass
from datetime import date
from typing import Annotated

import typer

app = typer.Typer(no_args_is_help=True, help="Return letters (返戻通知) and print batches.")


@app.command("produce")
def produce_command(
    batch: Annotated[str, typer.Option(help="The night's batch id, e.g. 2020-06-01.")],
    letter_date: Annotated[
        str, typer.Option("--date", help="Date printed on the letters, YYYY-MM-DD (default today).")
    ] = "",
) -> None:
    """Write the letters still missing for BATCH's rejected documents, one PDF per letter type."""
    from returns import produce_letters
    from store import Ledger

    day = date.fromisoformat(letter_date) if letter_date else date.today()
    try:
        report = produce_letters(Ledger(), batch, day)
    except KeyError as exc:  # an unknown batch id
        typer.echo(f"error: {exc.args[0]}", err=True)
        raise typer.Exit(2) from exc
    if report.print_batch is None:
        typer.echo(f"batch {batch}: no new letters ({report.already_produced} produced before)")
    else:
        typer.echo(
            f"print batch {report.print_batch}: {report.letters} letters, {report.pages} pages"
            f" → {report.directory}"
        )
        for t in report.types:
            typer.echo(
                f"  {t.letter_type:<20} {t.letters:>6} letters {t.pages:>6} pages  {t.title_ja}"
            )
        typer.echo(f"  mailing list: {report.mailing_list}")
    for h in report.held:
        typer.echo(f"  held for a person: {h.document_id[:12]} ({h.form_id}): {h.reason}")


@app.command("mailed")
def mailed_command(
    print_batch: Annotated[str, typer.Argument(help="Print batch id, e.g. 2020-06-01-L1.")],
    operator: Annotated[str, typer.Option(help="Who confirms the mailing.")] = "",
) -> None:
    """Record that every letter of PRINT_BATCH was mailed (letter_queued → mailed)."""
    from store import Ledger
    from store.letters import mark_mailed

    who = operator or getpass.getuser()
    try:
        result = mark_mailed(Ledger(), print_batch, actor=f"operator:{who}")
    except KeyError as exc:
        typer.echo(f"error: {exc.args[0]}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(
        f"print batch {print_batch}: {result.mailed} letters marked mailed"
        f" ({result.already_mailed} were already)"
    )


@app.command("status")
def status_command(
    batch: Annotated[str, typer.Option(help="The night's batch id.")],
) -> None:
    """Letters of BATCH per print batch and letter type, and the letters held for a person."""
    from collections import Counter

    from store import Ledger
    from store.letters import letter_rows

    ledger = Ledger()
    rows = letter_rows(ledger, batch_id=batch)
    counts = Counter(
        (r.print_batch, r.letter_type, "mailed" if r.mailed_at else "queued")
        for r in rows
        if r.print_batch
    )
    for (print_batch, letter_type, state), n in sorted(counts.items()):
        typer.echo(f"{print_batch:<20} {letter_type:<20} {state:<7} {n:>6}")
    # A held letter matters while its document is still rejected (not reprocessed since).
    held = [r for r in rows if r.print_batch is None and r.held_reason]
    rejected = {
        row.id for row in ledger.rows([r.document_id for r in held]) if row.state == "rejected"
    }
    for r in held:
        if r.document_id in rejected:
            typer.echo(f"held {r.document_id[:12]} {r.letter_type}: {r.held_reason}")
    if not rows:
        typer.echo(f"batch {batch}: no letters")
