"""Prefect tasks: one per stage call, with the retries that stage's faults deserve.

Each task takes plain, picklable values, opens its own :class:`Ledger` and
calls one stage function; the stage functions are tested without Prefect.
Retries are declared here, never hand-rolled: a retried task asks the ledger
what is left, so it never does a document twice.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.concurrency.sync import concurrency
from prefect.states import State

from shinsei.errors import ConfigError
from shinsei.privacy import mask_text
from store import Ledger
from store.reprocess import Stage

LEGACY_SESSIONS = "legacy-sessions"
"""Global concurrency limit: browser sessions open against the legacy system."""

SESSIONS_LEASE = 60
"""Seconds a run's hold on its session slots lasts unless renewed (the least Prefect allows).

A live run renews it; a run killed with ``kill -9`` cannot release its slots,
and the server's repossessor frees them once the lease has run out -- a
minute, not Prefect's default five, before the operator's re-run can start.
"""


def ensure_session_limit(max_sessions: int) -> None:
    """Create the sessions limit if the server has none (an operator's own setting stays)."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(LEGACY_SESSIONS)
        except ObjectNotFound:
            client.upsert_global_concurrency_limit_by_name(LEGACY_SESSIONS, max_sessions)


def unless_misconfigured(_task: Any, _run: Any, state: State[Any]) -> bool:
    """Retry a task unless it failed on configuration (wrong credentials, a broken form).

    Waiting and trying again cannot fix those; the operator must.
    """
    try:
        state.result()
    except ConfigError:
        return False
    except Exception:  # any other failure may pass: retry
        return True
    return True


@task(retries=2, retry_delay_seconds=[2, 10])
def intake_task(inbox: list[str], batch_id: str, receipt_date: str) -> dict[str, int]:
    from intake import intake_inbox

    report = intake_inbox(
        [Path(p) for p in inbox], batch_id, date.fromisoformat(receipt_date), Ledger()
    )
    log = get_run_logger()
    for path, reason in report.failed:
        log.warning("unreadable: %s: %s", path, mask_text(reason))
    return {
        "registered": len(report.registered),
        "duplicates": len(report.duplicates),
        "failed": len(report.failed),
        "skipped": len(report.skipped),
    }


@task
def pending_extraction(batch_id: str) -> list[str]:
    from ocr.stage import pending

    return pending(Ledger(), batch_id)


@task(retries=3, retry_delay_seconds=[2, 5, 15])
def extract_task(doc_ids: list[str], engine: str) -> dict[str, int]:
    from ocr.stage import extract_documents

    return extract_documents(doc_ids, engine=engine)


@task(retries=2, retry_delay_seconds=[2, 10], retry_condition_fn=unless_misconfigured)
def validate_task(batch_id: str, doc_ids: list[str] | None = None) -> dict[str, int]:
    from validators.stage import validate_batch

    return validate_batch(batch_id, Ledger(), doc_ids=doc_ids)


@task(retries=2, retry_delay_seconds=[2, 10])
def export_review_task(batch_id: str, out_dir: str | None = None) -> str | None:
    """The batch's review workbook; ``None`` when nothing waits for review."""
    from review.exporter import export_pending

    ledger = Ledger()
    folder = Path(out_dir) if out_dir else ledger.data_dir / "review" / batch_id
    path = export_pending(batch_id, folder, ledger=ledger)
    if path is not None:
        get_run_logger().info("review workbook: %s", path)
    return None if path is None else str(path)


@task(retries=2, retry_delay_seconds=[10, 30], retry_condition_fn=unless_misconfigured)
def key_task(
    batch_id: str | None,
    doc_ids: list[str] | None = None,
    only_failed: bool = False,
    contexts: int = 2,
    max_sessions: int = 4,
    follow: bool = False,
) -> dict[str, Any]:
    """Key the ready documents; holds one slot of the sessions limit per browser context.

    ``follow``: the batch is still being read; key its documents as they become ready.
    """
    from robots.keying import KeyingConfig, key_records

    config = KeyingConfig(contexts=contexts, max_sessions=max_sessions)
    ensure_session_limit(max_sessions)
    with concurrency(
        LEGACY_SESSIONS,
        occupy=config.sessions,
        timeout_seconds=3600,
        lease_duration=SESSIONS_LEASE,
    ):
        report = key_records(
            Ledger(),
            doc_ids,
            batch_id=batch_id,
            only_failed=only_failed,
            follow=follow,
            config=config,
        )
    return report.to_dict()


@task(retries=2, retry_delay_seconds=[2, 10])
def letters_task(batch_id: str, letter_date: str) -> dict[str, Any]:
    from returns.batch import produce_letters

    report = produce_letters(Ledger(), batch_id, date.fromisoformat(letter_date))
    return report.to_dict()


@task
def reset_task(document_ids: list[str], from_stage: Stage) -> dict[str, list[str]]:
    from store.reprocess import reset_documents

    return reset_documents(Ledger(), document_ids, from_stage)


@task
def report_task(batch_id: str, timings: list[tuple[str, float, int]]) -> dict[str, Any]:
    """Publish the batch's report as Prefect artifacts (markdown + table); return its figures."""
    from store.report import StageTiming, batch_report

    report = batch_report(Ledger(), batch_id, [StageTiming(*t) for t in timings])
    key = "batch-" + "".join(c if c.isalnum() else "-" for c in batch_id.lower())
    create_markdown_artifact(report.markdown(), key=key, description=f"nightly batch {batch_id}")
    create_table_artifact(report.table(), key=f"{key}-states", description="documents per state")
    return report.to_dict()
