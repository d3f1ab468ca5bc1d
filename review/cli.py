"""``shinsei review export|import``: the reviewers' workbook round trip."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

review_app = typer.Typer(
    no_args_is_help=True,
    help="確認表: export documents waiting for review to .xlsx, import the corrections.",
)


@review_app.command("export")
def export_command(
    batch: Annotated[str, typer.Option(help="Batch id whose documents in review are exported.")],
    out: Annotated[Path, typer.Option(help="Workbook to write (.xlsx).")],
) -> None:
    """Write the review workbook of BATCH: one sheet per form, one row per document."""
    from review.exporter import NothingToReview, export_review

    try:
        report = export_review(batch, out)
    except NothingToReview as exc:
        typer.echo(str(exc))
        return
    sheets = ", ".join(f"{title}: {n}" for title, n in report.sheets.items())
    typer.echo(
        f"{out}: export {report.export_id}, {report.documents} documents ({sheets}), "
        f"{report.images} crop images"
    )
    for problem in report.missing_images:
        typer.echo(f"  crop image missing: {problem}", err=True)
    for skipped in report.skipped:
        typer.echo(f"  skipped: {skipped}", err=True)


@review_app.command("import")
def import_command(
    workbook: Annotated[Path, typer.Argument(help="The reviewed workbook (.xlsx).")],
    reviewer: Annotated[
        str, typer.Option(help="The reviewer's name, stored with each correction.")
    ],
) -> None:
    """Import a reviewed workbook: corrections, 確認済 and 返戻 rows; re-run the rules."""
    from review.importer import import_review

    report = import_review(workbook, reviewer=reviewer)
    counts = ", ".join(f"{state} {n}" for state, n in sorted(report.counts().items())) or "none"
    typer.echo(
        f"{workbook}: export {report.export_id}, {report.cells_changed} cells changed; "
        f"documents moved: {counts}; already imported: {report.already_applied}; "
        f"untouched rows: {report.untouched}; rows not in the workbook: {report.missing_rows}"
    )
    for skipped in report.skipped:
        typer.echo(f"  not imported: {skipped}", err=True)
