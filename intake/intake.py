"""Register the files of an inbox: hash, deduplicate, count pages, record bad files.

One file is one envelope, identified by the sha256 of its bytes, so the same
envelope scanned twice is registered once. A file that cannot be read is
registered as ``failed`` with the reason; the rest of the batch goes on.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ocr.io import SUFFIXES, probe
from shinsei.errors import BadInputError
from store import Ledger

log = logging.getLogger(__name__)


@dataclass
class IntakeReport:
    """What one intake run did, file by file."""

    batch_id: str
    registered: list[str] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (file, first file)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    skipped: list[str] = field(default_factory=list)  # not scan files (by suffix)

    @property
    def total(self) -> int:
        return len(self.registered) + len(self.duplicates) + len(self.failed)


def scan_files(inputs: Iterable[Path]) -> tuple[list[Path], list[Path]]:
    """Expand files and folders into scan files (sorted) and files that are not scans."""
    files: list[Path] = []
    others: list[Path] = []
    for item in inputs:
        candidates = sorted(p for p in item.rglob("*") if p.is_file()) if item.is_dir() else [item]
        for path in candidates:
            if path.name.startswith("."):
                continue
            (files if path.suffix.lower() in SUFFIXES else others).append(path)
    return files, others


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def intake_inbox(
    inputs: Iterable[Path], batch_id: str, receipt_date: date, ledger: Ledger
) -> IntakeReport:
    """Register every scan file under ``inputs`` in batch ``batch_id``."""
    inputs = list(inputs)
    ledger.ensure_batch(batch_id, receipt_date, inbox=", ".join(str(p) for p in inputs))
    report = IntakeReport(batch_id)
    files, others = scan_files(inputs)
    report.skipped = [str(p) for p in others]
    for path in files:
        doc_id = sha256_file(path)
        existing = ledger.find_document(doc_id)
        if existing is not None:
            if existing.file == str(path) and existing.batch_id == batch_id:
                # A re-run of the same intake: report the file as it stands.
                if existing.failed_stage == "intake":
                    report.failed.append((str(path), existing.error or "unreadable"))
                else:
                    report.registered.append(doc_id)
            else:
                report.duplicates.append((str(path), existing.file))
                log.info("%s: duplicate of %s, not registered again", path, existing.file)
            continue
        try:
            info = probe(path)
            sizes, error = info.page_sizes, None
        except BadInputError as exc:
            sizes, error = [], exc.problem
            log.warning("%s: %s", path, exc.problem)
        ledger.register_document(
            doc_id=doc_id,
            batch_id=batch_id,
            file=str(path),
            source=path,
            size_bytes=path.stat().st_size,
            page_sizes=sizes,
            error=error,
        )
        if error:
            report.failed.append((str(path), error))
        else:
            report.registered.append(doc_id)
    return report
