"""Sending documents back to an earlier stage, for an operator's ``reprocess`` run."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Literal

from shinsei.model import DocState, can_move
from store.ledger import Ledger

log = logging.getLogger(__name__)

Stage = Literal["extract", "validate", "key"]

#: The state a document is put back in to run again from each stage.
_RESTART: dict[str, DocState] = {"extract": DocState.RECEIVED, "validate": DocState.EXTRACTED}


def reset_documents(
    ledger: Ledger, doc_ids: Sequence[str], from_stage: Stage, *, actor: str = "operator"
) -> dict[str, list[str]]:
    """Put each document back where ``from_stage`` starts; return the ids by batch.

    ``key`` moves nothing here (the keying robot resets failed keying itself);
    it only groups the documents that failed at keying. A document the ledger
    does not allow back (keyed, letter queued, mailed) is skipped and logged.
    """
    out: dict[str, list[str]] = {}
    for row in ledger.rows(list(doc_ids)):
        if from_stage == "key":
            if row.state is DocState.FAILED and row.failed_stage == "keying":
                out.setdefault(row.batch_id, []).append(row.id)
            continue
        target = _RESTART[from_stage]
        if row.state is not target:
            if not can_move(row.state, target):
                log.warning(
                    "%s is %s: it cannot run again from %s", row.id[:12], row.state, from_stage
                )
                continue
            ledger.transition(
                row.id, target, actor=actor, action="reprocess", detail={"from": from_stage}
            )
        out.setdefault(row.batch_id, []).append(row.id)
    return out
