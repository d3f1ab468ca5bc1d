"""``shinsei forms ...``: commands for administrators of form definitions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(no_args_is_help=True, help="Form definitions (forms/<form_id>/form.yaml).")


@app.command("check")
def check_command(
    form_id: Annotated[
        str | None, typer.Argument(help="Form to check (default: every form).")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Where to write the overlays (default: <data dir>/forms-check)."),
    ] = None,
) -> None:
    """Validate form.yaml against the schema and dictionary.yaml; draw every region on the blank.

    Exits 1 if any form has a problem.
    """
    from forms.check import check_forms
    from shinsei.config import settings

    out_dir = out if out is not None else settings().data_dir / "forms-check"
    results = check_forms([form_id] if form_id else None, out_dir)
    for r in results:
        counts = f"{r.fields} fields"
        if r.dictionary_fields is not None:
            counts += f" (dictionary: {r.dictionary_fields})"
        status = "ok" if r.ok else f"{len(r.problems)} problem(s)"
        typer.echo(f"{r.form_id}: {counts}: {status}")
        for problem in r.problems:
            typer.echo(f"  {problem}", err=True)
        if r.overlay is not None:
            typer.echo(f"  overlay: {r.overlay}")
    if not results or not all(r.ok for r in results):
        raise typer.Exit(1)
