"""The extraction stage over the ledger: ``received`` documents → ``extracted`` / ``unknown``.

Flows call :func:`extract_documents` with a chunk of document ids; it asks
the ledger which of them still wait for extraction, so a re-run (after a
crash, or a retry of the task) never reads a document twice. Each document's
result is stored in its own transaction, a group of :data:`GROUP` documents
at a time: a crash loses at most the group in flight, and those documents
are still ``received``.

The aligned form page is kept under the data directory (``pages/``): the
review workbook cuts the pictures of the fields a reviewer must look at
from it, for the few documents that need one (writing every field's crop
of every document cost a tenth of the reading time).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from ocr.engine import DEFAULT_ENGINE
from ocr.pipeline import Options, extract_batch
from shinsei.model import DocState
from store.ledger import DocumentRow, Ledger

log = logging.getLogger(__name__)


def pending(ledger: Ledger, batch_id: str) -> list[str]:
    """Ids of the batch's documents that wait for extraction."""
    return ledger.document_ids(batch_id=batch_id, states=[DocState.RECEIVED])


#: Documents read together in one engine call (their pages are held until it is done).
GROUP = 8


def extract_documents(
    doc_ids: Sequence[str], *, engine: str = DEFAULT_ENGINE, ledger: Ledger | None = None
) -> dict[str, int]:
    """Extract the ``received`` documents among ``doc_ids`` and store what was read.

    Returns counts by outcome (``extracted``, ``unknown``, ``failed``,
    ``skipped`` for documents no longer waiting). A file that cannot be read
    fails that document only, with the reason naming the file. The documents
    are read :data:`GROUP` at a time, each group stored before the next.
    """
    ledger = ledger or Ledger()
    rows = [r for r in ledger.rows(list(doc_ids)) if r.state is DocState.RECEIVED]
    counts: Counter[str] = Counter(skipped=len(doc_ids) - len(rows))
    for at in range(0, len(rows), GROUP):
        counts.update(_extract_group(rows[at : at + GROUP], engine, ledger))
    return dict(counts)


def _extract_group(rows: list[DocumentRow], engine: str, ledger: Ledger) -> Counter[str]:
    counts: Counter[str] = Counter()
    data = ledger.data_dir
    options = Options(engine=engine, page_dir=str(data / "pages"))
    docs = extract_batch([ledger.stored_path(r) for r in rows], options, [r.id for r in rows])
    for row, doc in zip(rows, docs, strict=True):
        doc.file, doc.batch = row.file, row.batch_id
        if doc.state is DocState.FAILED:
            ledger.fail(doc.id, stage="extract", reason=doc.error or "unreadable", actor="ocr")
            counts["failed"] += 1
            continue
        ledger.save_extraction(doc)
        if doc.form_page is not None:
            image = Path("pages") / f"{doc.id[:16]}.jpg"
            if (data / image).is_file():
                ledger.save_page_classes(doc.id, {doc.form_page: {"image": str(image)}})
        counts["unknown" if doc.form_id is None else "extracted"] += 1
    return counts
