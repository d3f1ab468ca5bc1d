"""``shinsei extract``: scan files to JSON lines (``shinsei process`` without validation)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ocr.engine import DEFAULT_ENGINE

if TYPE_CHECKING:
    from shinsei.model import Document


def extract_command(
    inputs: Annotated[list[Path], typer.Argument(help="Scan files or folders of scans.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the JSON lines.")],
    overlays: Annotated[
        Path | None,
        typer.Option("--overlays", help="Write each form page with its regions and readings here."),
    ] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Worker processes.")] = 1,
    engine: Annotated[
        str, typer.Option("--engine", help="OCR engine: onnx, paddle, tesseract, null.")
    ] = DEFAULT_ENGINE,
    crops: Annotated[
        Path | None, typer.Option("--crops", help="Save every field's crop under this folder.")
    ] = None,
) -> None:
    """Read every field of every scan file in INPUTS and write one JSON object per document.

    Each line is the ``shinsei process`` object of DESIGN.md without ``decision``
    and ``findings`` (validation adds them); a file that cannot be read gets
    ``form_id`` null and an ``error`` naming the file and the problem.
    """
    write_results(inputs, out, overlays=overlays, workers=workers, engine=engine, crops=crops)


def write_results(
    inputs: list[Path],
    out: Path,
    *,
    overlays: Path | None = None,
    workers: int = 1,
    engine: str = DEFAULT_ENGINE,
    crops: Path | None = None,
    then: Callable[[Iterator[Document]], Iterator[Document]] | None = None,
) -> None:
    """Extract every scan file under ``inputs`` into JSON lines at ``out``.

    ``then`` runs over the extracted documents before they are written
    (``shinsei process`` validates them there); its records carry
    ``decision`` and ``findings``.
    """
    from intake.intake import scan_files
    from ocr.pipeline import Options, extract_files

    files, others = scan_files(inputs)
    for other in others:
        typer.echo(f"skipped (not a scan file): {other}", err=True)
    options = Options(
        engine=engine,
        overlays_dir=str(overlays) if overlays else None,
        crops_dir=str(crops) if crops else None,
    )
    started = time.perf_counter()
    counts = {"read": 0, "unknown": 0, "error": 0}
    out.parent.mkdir(parents=True, exist_ok=True)
    docs = extract_files(files, workers=workers, options=options)
    if then is not None:
        docs = then(docs)
    with out.open("w", encoding="utf-8") as fh:
        for doc in docs:
            record = doc.result_record(with_validation=then is not None)
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            fh.flush()
            kind = "error" if doc.error else "unknown" if doc.form_id is None else "read"
            counts[kind] += 1
            if doc.error:
                typer.echo(f"  error: {doc.error}", err=True)
    elapsed = time.perf_counter() - started
    total = sum(counts.values())
    rate = total / elapsed if elapsed > 0 else 0.0
    typer.echo(
        f"{total} documents in {elapsed:.1f} s ({rate:.2f}/s): {counts['read']} read, "
        f"{counts['unknown']} unknown, {counts['error']} errors → {out}",
        file=sys.stderr,
    )
