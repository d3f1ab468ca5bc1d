"""The deployments operators see in the Prefect UI, and serving them.

* ``nightly`` -- :func:`flows.nightly.nightly_batch` every night at 01:00
  Asia/Tokyo on the inbox folder;
* ``import-review``, ``key-records``, ``produce-letters``, ``reprocess`` --
  no schedule: an operator starts them from the UI (Deployments → the flow
  → Run → Custom run) with the parameters of the moment.
"""

from __future__ import annotations

from typing import Any

from prefect import serve
from prefect.schedules import Cron

from flows.nightly import import_review, key_records, nightly_batch, produce_letters, reprocess
from flows.tasks import ensure_session_limit

NIGHTLY_CRON = "0 1 * * *"
TIMEZONE = "Asia/Tokyo"


def deployments(inbox: str, max_sessions: int = 4) -> list[Any]:
    """The five deployments of shinsei (not yet registered)."""
    return [
        nightly_batch.to_deployment(
            name="nightly",
            schedules=[Cron(NIGHTLY_CRON, timezone=TIMEZONE)],
            parameters={"inbox": inbox, "max_sessions": max_sessions},
            description="受付・読取・審査・目視確認票・入力・返戻通知 (毎晩 01:00)",
            tags=["shinsei", "nightly"],
        ),
        import_review.to_deployment(
            name="import-review",
            description="目視確認の結果（修正済みの確認票 .xlsx）を取り込む",
            tags=["shinsei", "operator"],
        ),
        key_records.to_deployment(
            name="key-records",
            parameters={"max_sessions": max_sessions},
            description="入力待ちの申請を基幹システムに入力する（only_failed: 失敗分のみ）",
            tags=["shinsei", "operator"],
        ),
        produce_letters.to_deployment(
            name="produce-letters",
            description="返戻通知書を作成する（作成済みは再作成しない）",
            tags=["shinsei", "operator"],
        ),
        reprocess.to_deployment(
            name="reprocess",
            description="指定した書類を読取 / 審査 / 入力からやり直す",
            tags=["shinsei", "operator"],
        ),
    ]


def serve_deployments(inbox: str, max_sessions: int = 4) -> None:
    """Register the deployments and run their flows here until interrupted."""
    ensure_session_limit(max_sessions)
    serve(*deployments(inbox, max_sessions))
