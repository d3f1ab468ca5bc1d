"""``shinsei process``: extract and validate scan files, without the ledger."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from ocr.cli import write_results
from ocr.engine import DEFAULT_ENGINE
from shinsei.model import Document


def process_command(
    inputs: Annotated[list[Path], typer.Argument(help="Scan files or folders of scans.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the JSON lines.")],
    receipt_date: Annotated[
        str, typer.Option(help="受付日 of the mail, YYYY-MM-DD (default today).")
    ] = "",
    overlays: Annotated[
        Path | None,
        typer.Option("--overlays", help="Write each form page with its regions and readings here."),
    ] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Worker processes.")] = 1,
    engine: Annotated[
        str, typer.Option("--engine", help="OCR engine: onnx, paddle, tesseract, null.")
    ] = DEFAULT_ENGINE,
) -> None:
    """Read and check every scan file in INPUTS: one JSON object per document with its decision.

    Each line is the ``shinsei process`` object of DESIGN.md: the fields read,
    ``decision`` (accept, review, reject, unknown) and ``findings`` with their
    codes and the message for the resident. An applicant who appears twice
    is held for review the second time.
    """
    from validators.stage import validate_documents

    received = date.fromisoformat(receipt_date) if receipt_date else date.today()

    def validate(docs: Iterator[Document]) -> Iterator[Document]:
        return validate_documents(docs, received)

    write_results(inputs, out, overlays=overlays, workers=workers, engine=engine, then=validate)
