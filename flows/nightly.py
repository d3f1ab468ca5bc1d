"""The nightly batch and the flows operators run from the Prefect UI.

Each flow reads like a table of contents: it calls the tasks of
:mod:`flows.tasks`, each of which calls one stage. The ledger is the source
of truth, so every flow can be re-run for the same batch: it continues with
what is left and never does a document twice.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from prefect import flow, get_run_logger
from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner

from flows.tasks import (
    export_review_task,
    extract_task,
    intake_task,
    key_task,
    letters_task,
    pending_extraction,
    report_task,
    reset_task,
    validate_task,
)
from shinsei.config import REPO_ROOT
from shinsei.privacy import install_log_masking
from store.reprocess import Stage

TOKYO = ZoneInfo("Asia/Tokyo")
DEMO_INBOX = str(REPO_ROOT / "samples" / "batch-demo")


def _today() -> str:
    return datetime.now(TOKYO).date().isoformat()


def _task_runner(workers: int, dask_address: str | None, engine: str = "onnx") -> TaskRunner[Any]:
    """Extraction runs in local worker processes, or on an existing Dask cluster.

    Each local worker loads the model, templates and registry once and runs
    ONNX Runtime and OpenCV on one thread: the workers are the parallelism,
    and two workers of two threads each on two cores fight over them.
    """
    if dask_address:
        from prefect_dask import DaskTaskRunner

        return DaskTaskRunner(address=dask_address)
    from ocr.pipeline import init_worker

    return ProcessPoolTaskRunner(max_workers=workers, initializer=init_worker, initargs=(engine, 1))


@flow(name="extract", log_prints=True)
def extract_stage(
    batch_id: str,
    chunk_size: int = 32,
    engine: str = "onnx",
    workers: int = 2,
    validate_chunks: bool = False,
) -> dict[str, int]:
    """Read every document of the batch that waits for extraction, in chunks.

    A chunk is one task (a Prefect task run costs about a second of a worker);
    the chunks shrink towards the end so that no worker is left with a long
    one while the others wait (:func:`ocr.pipeline.guided_chunks`).

    ``validate_chunks`` validates each chunk as soon as it and every chunk before it
    are read -- in the order the mail was received, as the duplicate-application
    rule needs -- so that keying can start on the first applications while
    the rest are still being read. Returns counts by outcome, and by decision
    under ``validated:`` keys.
    """
    from ocr.pipeline import guided_chunks

    install_log_masking()
    ids = pending_extraction(batch_id)
    chunks = guided_chunks(ids, chunk_size, workers, smallest=min(chunk_size, 4))
    futures = [extract_task.submit(chunk, engine) for chunk in chunks]
    totals: Counter[str] = Counter()
    for chunk, future in zip(chunks, futures, strict=True):
        totals.update(future.result())
        if validate_chunks:
            decided = validate_task(batch_id, chunk)
            totals.update({f"validated:{k}": n for k, n in decided.items()})
    return dict(totals)


@flow(name="nightly-batch", log_prints=True)
def nightly_batch(
    inbox: str = DEMO_INBOX,
    batch_date: str | None = None,
    receipt_date: str | None = None,
    workers: int = 2,
    chunk_size: int = 32,
    dask_address: str | None = None,
    key: bool = True,
    contexts: int = 2,
    max_sessions: int = 4,
    letter_date: str | None = None,
) -> dict[str, Any]:
    """Intake → extract and validate, keying alongside → return letters → review workbook → report.

    ``batch_date`` (the batch id, default today in Asia/Tokyo) and
    ``receipt_date`` (受付日, default the batch date) identify the night's
    mail. ``dask_address`` runs extraction on an existing Dask scheduler.
    """
    install_log_masking()
    log = get_run_logger()
    batch_id = batch_date or _today()
    received = receipt_date or batch_id
    timings: list[tuple[str, float, int]] = []

    def timed(stage: str, documents: int, started: float) -> None:
        timings.append((stage, round(time.perf_counter() - started, 2), documents))

    started = time.perf_counter()
    taken = intake_task([inbox], batch_id, received)
    timed("intake", taken["registered"] + taken["duplicates"] + taken["failed"], started)

    # The robots key each application as soon as it is validated, while the
    # rest of the night's mail is still being read.
    keying_started = time.perf_counter()
    keying = (
        key_task.submit(batch_id, contexts=contexts, max_sessions=max_sessions, follow=True)
        if key
        else None
    )

    started = time.perf_counter()
    runner = _task_runner(workers, dask_address)
    read = extract_stage.with_options(task_runner=runner)(
        batch_id, chunk_size, workers=workers, validate_chunks=True
    )
    decided: Counter[str] = Counter()
    for outcome, n in read.items():
        if outcome.startswith("validated:"):
            decided[outcome.removeprefix("validated:")] += n
    decided.update(validate_task(batch_id))  # what a crashed run left extracted
    read_count = sum(n for k, n in read.items() if k != "skipped" and ":" not in k)
    timed("extract and validate", read_count, started)

    started = time.perf_counter()
    letters = letters_task(batch_id, letter_date or date.today().isoformat())
    timed("letters", letters.get("letters", 0), started)

    keyed: dict[str, Any] = {}
    if keying is not None:
        keying.wait()
        if keying.state.is_completed():
            keyed = keying.result()
            timed(
                "keying, alongside reading",
                keyed.get("registered", 0) + keyed.get("existing", 0),
                keying_started,
            )

    # After keying, so that applications the legacy system refused are in the workbook too.
    started = time.perf_counter()
    workbook = export_review_task(batch_id)
    timed("review export", decided.get("review", 0) + keyed.get("review", 0), started)

    report = report_task(batch_id, timings)
    log.info(
        "batch %s: %d documents, straight-through %.1f%%",
        batch_id,
        report["total"],
        100 * report["straight_through_rate"],
    )
    if keying is not None and not keying.state.is_completed():
        keying.result()  # keying failed: the workbook and the report are out, now the run fails
    return {
        "batch_id": batch_id,
        "intake": taken,
        "extract": read,
        "validate": dict(decided),
        "review_workbook": workbook,
        "keying": keyed,
        "letters": letters,
        "report": report,
    }


@flow(name="import-review", log_prints=True)
def import_review(workbook: str, reviewer: str) -> dict[str, Any]:
    """Take a reviewer's corrected workbook back into the ledger."""
    install_log_masking()
    from review.importer import import_review as import_workbook

    report = import_workbook(Path(workbook), reviewer=reviewer)
    return {
        "export_id": report.export_id,
        "cells_changed": report.cells_changed,
        "moved": report.counts(),
        "already_applied": report.already_applied,
        "missing_rows": report.missing_rows,
    }


@flow(name="key-records", log_prints=True)
def key_records(
    batch_id: str, only_failed: bool = False, contexts: int = 2, max_sessions: int = 4
) -> dict[str, Any]:
    """Key the batch's ready documents (``only_failed``: those that failed at keying)."""
    install_log_masking()
    return key_task(batch_id, only_failed=only_failed, contexts=contexts, max_sessions=max_sessions)


@flow(name="produce-letters", log_prints=True)
def produce_letters(batch_id: str, letter_date: str | None = None) -> dict[str, Any]:
    """Produce the return letters still missing for the batch's rejected documents."""
    install_log_masking()
    return letters_task(batch_id, letter_date or date.today().isoformat())


@flow(name="reprocess", log_prints=True)
def reprocess(document_ids: list[str], from_stage: Stage = "extract") -> dict[str, Any]:
    """Run documents again from ``extract``, ``validate`` or ``key`` (failed keying).

    Documents already keyed or mailed are left alone (the ledger refuses).
    """
    install_log_masking()
    moved = reset_task(document_ids, from_stage)
    out: dict[str, Any] = {"reset": moved}
    for batch_id, ids in moved.items():
        if from_stage == "extract":
            out[f"{batch_id}:extract"] = extract_task(ids, "onnx")
        if from_stage in ("extract", "validate"):
            out[f"{batch_id}:validate"] = validate_task(batch_id)
        if from_stage == "key":
            out[f"{batch_id}:keying"] = key_task(batch_id, doc_ids=ids, only_failed=True)
    return out
