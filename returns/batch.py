"""The night's print batch of return letters (返戻通知): PDFs per letter type, mailing list, counts.

:func:`produce_letters` is the stage function the flows call. It asks the
ledger which documents of a batch are ``rejected`` and have no letter yet,
writes one PDF per letter type (each mailing team handles one kind of
letter, which keeps letters out of the wrong envelopes), a mailing list CSV
for the print vendor and a summary, and then records every letter and its
``rejected → letter_queued`` move in one transaction. A re-run produces only
what is still missing. Letters that cannot be printed unattended are held
for a person and listed in the report.

Files, under ``<data_dir>/letters/<batch_id>/<print_batch>/``::

    <letter_type>.pdf          all letters of one type, sorted by postal code
    mailing_list.csv           UTF-8 with BOM, one row per letter, no personal numbers
    summary.json               counts per letter type
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from forms.loader import load_form
from returns.letter import Letter, LetterBook, LetterHeld, LetterText, compose_letter, letter_text
from returns.letter import reference_no as _reference_no
from returns.render import check_printable, render_letters
from shinsei.errors import ConfigError
from shinsei.model import DocState
from shinsei.residents import ResidentRegistry, registry
from store import Ledger
from store.letters import QueuedLetter, hold_letter, print_batches, queue_letters

log = logging.getLogger(__name__)

#: Columns of the mailing list for the print vendor (宛名リスト).
MAILING_COLUMNS = [
    "print_batch",
    "letter_type",
    "sequence",
    "postal_code",
    "address",
    "name",
    "document_id",
    "pages",
]
UNASSIGNED = "unassigned"


@dataclass(frozen=True)
class HeldLetter:
    """A letter held for a person (宛先不明など): the document stays ``rejected``."""

    document_id: str
    form_id: str | None
    letter_type: str
    reason: str


@dataclass(frozen=True)
class TypeSummary:
    """The letters of one type in a print batch."""

    letter_type: str
    form_id: str
    title_ja: str
    letters: int
    pages: int
    pdf: str


@dataclass
class PrintBatchReport:
    """What one run of :func:`produce_letters` did (plain data, for the nightly report)."""

    batch_id: str
    letter_date: str
    print_batch: str | None = None
    directory: str | None = None
    mailing_list: str | None = None
    types: list[TypeSummary] = field(default_factory=list)
    held: list[HeldLetter] = field(default_factory=list)
    already_produced: int = 0
    """Documents of the batch whose letter an earlier run produced."""

    @property
    def letters(self) -> int:
        return sum(t.letters for t in self.types)

    @property
    def pages(self) -> int:
        return sum(t.pages for t in self.types)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["letters"] = self.letters
        data["pages"] = self.pages
        return data


@dataclass(frozen=True)
class _Ready:
    letter: Letter
    text: LetterText
    book: LetterBook


def _books_loader(
    books: Mapping[str, LetterBook] | None,
) -> Callable[[str | None], LetterBook]:
    cache: dict[str, LetterBook | None] = dict(books or {})

    def book_for(form_id: str | None) -> LetterBook:
        if form_id is None:
            raise LetterHeld("様式が判別されていない文書です")
        if form_id not in cache:
            if books is not None:
                cache[form_id] = None
            else:
                cache[form_id] = LetterBook.of_form(load_form(form_id))
        book = cache[form_id]
        if book is None:
            raise LetterHeld(
                f"様式 {form_id} の form.yaml に返戻通知（letters:）の定義がありません"
            )
        return book

    return book_for


def _relative(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)


def produce_letters(
    ledger: Ledger,
    batch_id: str,
    letter_date: date,
    out_dir: Path | None = None,
    *,
    books: Mapping[str, LetterBook] | None = None,
    residents: ResidentRegistry | None = None,
    actor: str = "returns",
) -> PrintBatchReport:
    """Produce the letters still missing for ``batch_id``'s rejected documents.

    ``letter_date`` is printed on the letters (the reply deadline counts from
    it). ``out_dir`` defaults to ``<data_dir>/letters/<batch_id>``. ``books``
    (form id → :class:`LetterBook`) replaces the ``letters:`` blocks of the
    forms' form.yaml, and ``residents`` the registry, for tests and tools.
    """
    out_dir = out_dir or ledger.data_dir / "letters" / batch_id
    book_for = _books_loader(books)
    people = residents or registry()
    received = ledger.receipt_date(batch_id)
    report = PrintBatchReport(batch_id=batch_id, letter_date=letter_date.isoformat())
    report.already_produced = len(
        ledger.document_ids(batch_id=batch_id, states=[DocState.LETTER_QUEUED, DocState.MAILED])
    )

    ready: list[_Ready] = []
    for doc_id in ledger.document_ids(batch_id=batch_id, states=[DocState.REJECTED]):
        doc = ledger.load(doc_id)
        try:
            book = book_for(doc.form_id)
            letter = compose_letter(doc, book, people)
            text = letter_text(letter, book, letter_date, received)
            try:
                check_printable(text)
            except LetterHeld as held:
                raise LetterHeld(held.reason, letter.letter_type.id) from held
        except LetterHeld as held:
            report.held.append(
                HeldLetter(doc.id, doc.form_id, held.letter_type or UNASSIGNED, held.reason)
            )
            continue
        ready.append(_Ready(letter, text, book))

    if ready:
        _print_batch(ledger, report, ready, out_dir, actor)
    for h in report.held:
        if hold_letter(ledger, h.document_id, h.letter_type, h.reason, actor=actor):
            log.info("letter held for %s: %s", h.document_id[:12], h.reason)
    return report


def _print_batch(
    ledger: Ledger, report: PrintBatchReport, ready: list[_Ready], out_dir: Path, actor: str
) -> None:
    """Write the print batch's files, record it in the ledger, then put the files in place."""
    by_type: dict[str, list[_Ready]] = {}
    form_of_type: dict[str, str] = {}
    for r in ready:
        type_id = r.letter.letter_type.id
        if form_of_type.setdefault(type_id, r.letter.form_id) != r.letter.form_id:
            raise ConfigError(
                f"letter type {type_id!r} is defined by two forms "
                f"({form_of_type[type_id]}, {r.letter.form_id}); type ids must be unique"
            )
        by_type.setdefault(type_id, []).append(r)
    # Postal-code order within a type: the order the post office sorts, and
    # the order the team stuffs envelopes in.
    for letters_of_type in by_type.values():
        letters_of_type.sort(
            key=lambda r: (
                r.letter.addressee.postal_code,
                r.letter.addressee.address,
                r.letter.document_id,
            )
        )
    order = sorted(
        by_type,
        key=lambda t: (form_of_type[t], by_type[t][0].letter.letter_type.priority),
    )

    # Claim the print batch's folder atomically: a folder left by a run that failed
    # before the ledger recorded it (or one a concurrent run is writing) is skipped.
    out_dir.mkdir(parents=True, exist_ok=True)
    batch_no = len(print_batches(ledger, report.batch_id)) + 1
    while True:
        print_batch = f"{report.batch_id}-L{batch_no}"
        directory = out_dir / print_batch
        try:
            directory.mkdir(mode=0o700)
            break
        except FileExistsError:
            batch_no += 1
    try:
        parts, queued = _write_files(
            ledger, report, by_type, order, form_of_type, print_batch, directory
        )
        queue_letters(ledger, print_batch, queued, actor=actor)
    except BaseException:
        # Nothing of this print batch is recorded: its files must not reach the printer.
        shutil.rmtree(directory, ignore_errors=True)
        raise
    for part, final in parts:
        part.chmod(0o600)
        part.replace(final)
    log.info(
        "print batch %s: %d letters, %d pages in %d types",
        print_batch,
        report.letters,
        report.pages,
        len(report.types),
    )


def _write_files(
    ledger: Ledger,
    report: PrintBatchReport,
    by_type: dict[str, list[_Ready]],
    order: list[str],
    form_of_type: dict[str, str],
    print_batch: str,
    directory: Path,
) -> tuple[list[tuple[Path, Path]], list[QueuedLetter]]:
    """Write the PDFs, mailing list and summary as ``.part`` files; fill in the report."""
    parts: list[tuple[Path, Path]] = []
    queued: list[QueuedLetter] = []
    rows: list[dict[str, Any]] = []
    for type_id in order:
        items = by_type[type_id]
        letter_type = items[0].letter.letter_type
        sender = items[0].book.spec.sender
        final = directory / f"{type_id}.pdf"
        part = directory / f".{type_id}.pdf.part"
        pages = render_letters(
            part,
            [r.text for r in items],
            title=f"{items[0].book.spec.title_ja} {letter_type.title_ja} {print_batch}",
            author=f"{sender.organization} {sender.department}",
        )
        parts.append((part, final))
        stored = _relative(final, ledger.data_dir)
        for seq, (r, n) in enumerate(zip(items, pages, strict=True), start=1):
            who = r.letter.addressee
            rows.append(
                {
                    "print_batch": print_batch,
                    "letter_type": type_id,
                    "sequence": seq,
                    "postal_code": who.postal_code,
                    "address": who.address,
                    "name": who.name,
                    "document_id": _reference_no(r.letter.document_id),
                    "pages": n,
                }
            )
            queued.append(QueuedLetter(r.letter.document_id, type_id, stored))
        report.types.append(
            TypeSummary(
                letter_type=type_id,
                form_id=form_of_type[type_id],
                title_ja=letter_type.title_ja,
                letters=len(items),
                pages=sum(pages),
                pdf=str(final),
            )
        )

    mailing = directory / "mailing_list.csv"
    part = directory / ".mailing_list.csv.part"
    # utf-8-sig: the BOM makes Excel read the file as UTF-8.
    pd.DataFrame(rows, columns=MAILING_COLUMNS).to_csv(part, index=False, encoding="utf-8-sig")
    parts.append((part, mailing))

    report.print_batch = print_batch
    report.directory = str(directory)
    report.mailing_list = str(mailing)
    summary = {
        "batch_id": report.batch_id,
        "print_batch": print_batch,
        "letter_date": report.letter_date,
        "letters": report.letters,
        "pages": report.pages,
        "types": [asdict(t) | {"pdf": Path(t.pdf).name} for t in report.types],
    }
    part = directory / ".summary.json.part"
    part.write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    parts.append((part, directory / "summary.json"))

    return parts, queued
