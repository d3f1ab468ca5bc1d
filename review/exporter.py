"""Export the documents waiting for review as one .xlsx workbook (確認表の出力).

One sheet per form, one row per document in ``review``. For every field a
reviewer may need on that form (a field some document of the sheet has
flagged) there are two columns: the field's crop image and its value. A
flagged value cell is yellow when the reading is uncertain, orange when a
rule did not hold (the rule's reviewer message is the cell's comment). Fixed
columns say why the row is here, let the reviewer confirm the row (確認済)
or return the application (返戻理由), and link to the page image.

Id and check columns are locked (sheet protection without a password, so a
reviewer may lift it to sort); the hidden ``_shinsei`` sheet holds the
manifest (export id, each row's document and the text of every exported
value cell) and its SHA-256, which the ledger keeps too
(:mod:`store.review`). My Number and account numbers are shown masked.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.drawing.image import Image as XlImage
from openpyxl.drawing.spreadsheet_drawing import AnchorMarker, TwoCellAnchor
from openpyxl.drawing.xdr import XDRPositiveSize2D
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.utils.units import pixels_to_EMU
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from forms.loader import load_form
from forms.schema import FieldSpec, FormSpec, Kind
from review import layout as L
from review.images import MAX_HEIGHT, MAX_WIDTH, Thumbnail, page_thumbnails, thumbnail
from shinsei.errors import BusinessError
from shinsei.model import DocState, Document, Finding
from shinsei.privacy import SENSITIVE_FIELDS, mask, mask_text
from store.ledger import Ledger
from store.review import PageImage, ReviewStore
from validators.engine import DEFAULT_CONFIDENCE_THRESHOLD

log = logging.getLogger(__name__)

# Sizes: a data row is tall enough for a crop (56 px) and four lines of reasons.
DATA_ROW_HEIGHT_PT = 48.0
IMAGE_COL_WIDTH = 29.0  # characters; about 208 px
PX_PER_PT = 96 / 72

_THIN = Side(style="thin", color="B7BEC7")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP_TOP = Alignment(wrap_text=True, vertical="top")
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_FONT = Font(name="IPAexGothic", size=10)
_HEADER_FONT = Font(name="IPAexGothic", size=10, bold=True)
_ID_FONT = Font(name="IPAexGothic", size=8, color="6B7280")
_REASON_FONT = Font(name="IPAexGothic", size=9)
_VALUE_FONT = Font(name="IPAexGothic", size=11)
_VALUE_ALIGN = Alignment(horizontal="left", vertical="center", wrap_text=True)
_LINK_FONT = Font(name="IPAexGothic", size=10, color="1F5FBF", underline="single")
_UNLOCKED = Protection(locked=False)


def _fill(rgb: str) -> PatternFill:
    return PatternFill(fill_type="solid", start_color=rgb, end_color=rgb)


_FILLS = {
    "low": _fill(L.LOW_CONFIDENCE_FILL),
    "rule": _fill(L.RULE_FILL),
    "locked": _fill(L.LOCKED_FILL),
    "header": _fill(L.HEADER_FILL),
    "return": _fill(L.RETURN_FILL),
}


class NothingToReview(BusinessError):
    """The batch has no document waiting for review."""


@dataclass
class ExportReport:
    """What one export wrote."""

    export_id: str
    path: Path
    batch_id: str
    documents: int
    sheets: dict[str, int] = field(default_factory=dict)
    images: int = 0
    missing_images: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


@dataclass
class _Flags:
    """Why each field of one document is shown for review."""

    low: set[str] = field(default_factory=set)
    rules: dict[str, list[Finding]] = field(default_factory=lambda: defaultdict(list))

    @property
    def fields(self) -> set[str]:
        return self.low | set(self.rules)


def flags_of(doc: Document, form: FormSpec, threshold: float) -> _Flags:
    """The fields of ``doc`` a reviewer must look at, and why."""
    ids = set(form.field_ids)
    flags = _Flags()
    for fid, fv in doc.fields.items():
        if fid in ids and (
            fv.status == "review" or fv.confidence < threshold or "ambiguous" in fv.flags
        ):
            flags.low.add(fid)
    for finding in doc.findings:
        for fid in finding.fields:
            if fid in ids:
                flags.rules[fid].append(finding)
    return flags


def return_reasons(form: FormSpec) -> list[tuple[str, str]]:
    """The 返戻 reasons a reviewer may choose: the form's error rule codes with a short label."""
    from validators.engine import finding_of
    from validators.registry import Violation

    seen: dict[str, str] = {}
    for rule in form.rules:
        if rule.severity != "error" or rule.code in seen:
            continue
        message = finding_of(rule, Violation(list(rule.fields)), form).message_ja
        seen[rule.code] = message.replace("\n", " ").strip()
    return list(seen.items())


def reason_option(code: str, message: str) -> str:
    """How a 返戻 reason reads in the drop-down: the code, a space, a short message."""
    short = message if len(message) <= 40 else message[:39] + "…"
    return f"{code} {short}"


def _shown(spec: FieldSpec, doc: Document) -> Any:
    """The cell value of a field: the canonical value, else what was read."""
    fv = doc.fields.get(spec.id)
    if fv is None:
        return None
    value = fv.value
    if value is None or value == []:
        if spec.kind in (Kind.CHECKBOX, Kind.SIGNATURE, Kind.CHOICE, Kind.MULTICHOICE):
            return L.display_value(spec, value)
        return fv.raw or None
    shown = L.display_value(spec, value)
    if spec.id in SENSITIVE_FIELDS:
        return mask(L.cell_text(shown))
    return shown


def _reasons_text(doc: Document, form: FormSpec, flags: _Flags) -> str:
    lines = []
    if flags.low:
        labels = "、".join(f.label_ja for f in form.fields if f.id in flags.low)
        lines.append(f"・読取りを確認: {labels}")
    for finding in doc.findings:
        message = finding.reviewer_message_ja or finding.message_ja
        lines.append(f"・{message}")
    return "\n".join(lines)


def _sheet_title(form: FormSpec, taken: set[str]) -> str:
    title = "".join(ch for ch in form.title_ja if ch not in "[]:*?/\\")[:28] or form.form_id
    base, n = title, 2
    while title in taken:
        title = f"{base}{n}"
        n += 1
    taken.add(title)
    return title


class _ListsSheet:
    """The hidden sheet that holds the drop-down lists (too long to inline)."""

    def __init__(self, wb: Workbook) -> None:
        self.ws = wb.create_sheet(L.LISTS_SHEET)
        self.ws.sheet_state = "hidden"
        self.col = 0

    def add(self, items: list[str]) -> str:
        self.col += 1
        letter = get_column_letter(self.col)
        for i, item in enumerate(items, start=1):
            self.ws.cell(row=i, column=self.col, value=item)
        return f"'{L.LISTS_SHEET}'!${letter}$1:${letter}${len(items)}"


def _validation(
    ws: Worksheet, formula: str, col: int, first: int, last: int, title: str, prompt: str
) -> None:
    dv = DataValidation(
        type="list",
        formula1=formula,
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=title,
        error="一覧から選んでください。",
        promptTitle=title,
        prompt=prompt,
        showInputMessage=bool(prompt),
    )
    letter = get_column_letter(col)
    dv.add(f"{letter}{first}:{letter}{last}")
    ws.add_data_validation(dv)


def _inline_or_sheet(lists: _ListsSheet, items: list[str]) -> str:
    inline = '"' + ",".join(items) + '"'
    if len(inline) <= 250 and not any("," in i or '"' in i for i in items):
        return inline
    return lists.add(items)


def _place_image(ws: Worksheet, png: bytes, width: int, height: int, row: int, col: int) -> None:
    """Embed a crop inside one cell, moving with the cell when rows are sorted."""
    import io

    img = XlImage(io.BytesIO(png))
    img.width, img.height = width, height
    pad = 3
    anchor = TwoCellAnchor(editAs="oneCell")
    anchor._from = AnchorMarker(
        col=col - 1, colOff=pixels_to_EMU(pad), row=row - 1, rowOff=pixels_to_EMU(pad)
    )
    anchor.to = AnchorMarker(
        col=col - 1,
        colOff=pixels_to_EMU(pad + width),
        row=row - 1,
        rowOff=pixels_to_EMU(pad + height),
    )
    anchor.ext = XDRPositiveSize2D(pixels_to_EMU(width), pixels_to_EMU(height))
    img.anchor = anchor
    ws.add_image(img)


@dataclass
class _Column:
    machine_id: str
    header: str
    width: float
    spec: FieldSpec | None = None


def _columns(form: FormSpec, field_ids: set[str]) -> list[_Column]:
    key_label = form.field(form.key_fields[0]).label_ja if form.key_fields else "番号"
    cols = [
        _Column(L.COL_NO, "No.", 6),
        _Column(L.COL_KEY, key_label, 13),
        _Column(L.COL_REASONS, "確認が必要な理由", 34),
        _Column(L.COL_CONFIRM, "確認済", 9),
        _Column(L.COL_RETURN, "返戻理由", 24),
        _Column(L.COL_PAGE, "原本", 8),
    ]
    for spec in form.fields:
        if spec.id not in field_ids:
            continue
        width = min(max(12.0, len(spec.label_ja) * 2.0 + 2), 26.0)
        if spec.kind is Kind.MULTICHOICE:
            width = 26.0
        cols.append(_Column(L.image_column(spec.id), "画像", IMAGE_COL_WIDTH, spec))
        cols.append(_Column(L.field_column(spec.id), spec.label_ja, width, spec))
    cols.append(_Column(L.COL_DOC, "文書ID", 16))
    cols.append(_Column(L.COL_CHECK, "照合", 11))
    return cols


class _SheetWriter:
    """Writes one form's sheet."""

    def __init__(
        self,
        ws: Worksheet,
        form: FormSpec,
        docs: list[Document],
        flags: dict[str, _Flags],
        lists: _ListsSheet,
        data_dir: Path,
        page_images: dict[str, PageImage],
    ) -> None:
        self.ws = ws
        self.form = form
        self.docs = docs
        self.flags = flags
        self.lists = lists
        self.data_dir = data_dir
        self.page_images = page_images
        shown: set[str] = set()
        for doc in docs:
            shown |= flags[doc.id].fields
        self.missing_images: list[str] = []
        self.thumbs = self._thumbnails()
        self.columns = _columns(form, shown)
        for col in self.columns:
            if col.machine_id.startswith(L.IMAGE_PREFIX) and col.spec is not None:
                # As wide as its widest crop (about 7 px a character), narrow when it has none.
                widths = [t.width for (_, fid), t in self.thumbs.items() if fid == col.spec.id]
                col.width = round((max(widths) + 10) / 7 + 0.5, 1) if widths else 5.0
        self.index = {c.machine_id: i for i, c in enumerate(self.columns, start=1)}
        self.images = 0

    def _thumbnails(self) -> dict[tuple[str, str], Thumbnail]:
        """Each flagged field's picture: its saved crop, else cut from the aligned page."""
        thumbs: dict[tuple[str, str], Thumbnail] = {}
        size = (self.form.size[0], self.form.size[1])
        for doc in self.docs:
            boxes: dict[str, tuple[int, int, int, int]] = {}
            for fid in sorted(self.flags[doc.id].fields):
                fv = doc.fields.get(fid)
                if fv is None:
                    continue
                if not fv.crop:
                    boxes[fid] = self.form.field(fid).crop_box(size)
                    continue
                try:
                    thumbs[(doc.id, fid)] = thumbnail(
                        self.data_dir / fv.crop, max_width=MAX_WIDTH, max_height=MAX_HEIGHT
                    )
                except OSError as exc:
                    self.missing_images.append(f"{doc.id[:12]} {fid}: {exc}")
            page = self.page_images.get(doc.id)
            if not boxes or page is None or not page.aligned:
                continue
            try:
                cut = page_thumbnails(page.path, boxes, max_width=MAX_WIDTH, max_height=MAX_HEIGHT)
            except OSError as exc:
                self.missing_images.append(f"{doc.id[:12]} {', '.join(boxes)}: {exc}")
                continue
            thumbs.update({(doc.id, fid): thumb for fid, thumb in cut.items()})
        return thumbs

    def header(self) -> None:
        ws = self.ws
        for i, col in enumerate(self.columns, start=1):
            ws.cell(row=L.ID_ROW, column=i, value=col.machine_id).font = _ID_FONT
            cell = ws.cell(row=L.HEADER_ROW, column=i, value=col.header)
            cell.font = _HEADER_FONT
            cell.fill = _FILLS["return" if col.machine_id == L.COL_RETURN else "header"]
            cell.alignment = _CENTER
            cell.border = _BORDER
            ws.column_dimensions[get_column_letter(i)].width = col.width
        ws.row_dimensions[L.ID_ROW].hidden = True
        ws.row_dimensions[L.HEADER_ROW].height = 30
        ws.freeze_panes = ws.cell(row=L.FIRST_DATA_ROW, column=self.index[L.COL_REASONS])
        last = get_column_letter(len(self.columns))
        ws.auto_filter.ref = f"A{L.HEADER_ROW}:{last}{L.HEADER_ROW + max(1, len(self.docs))}"
        ws.print_title_rows = f"{L.HEADER_ROW}:{L.HEADER_ROW}"
        # A3 landscape (the size offices print wide lists on).
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A3
        # Printed at 50 % so a page shows a readable block of rows and columns;
        # No. and the key repeat on every page.
        ws.page_setup.scale = 50
        ws.print_title_cols = "A:B"
        ws.print_options.gridLines = False
        ws.page_margins.left = ws.page_margins.right = 0.3
        ws.page_margins.top = ws.page_margins.bottom = 0.4

    def validations(self) -> None:
        first, last = L.FIRST_DATA_ROW, L.FIRST_DATA_ROW + max(1, len(self.docs)) - 1
        _validation(
            self.ws,
            f'"{L.CONFIRMED}"',
            self.index[L.COL_CONFIRM],
            first,
            last,
            "確認済",
            "色の付いたセルをすべて確かめたら「確認済」を選びます。",
        )
        reasons = [reason_option(c, m) for c, m in return_reasons(self.form)]
        if reasons:
            _validation(
                self.ws,
                self.lists.add(reasons),
                self.index[L.COL_RETURN],
                first,
                last,
                "返戻理由",
                "申請者に返戻する場合だけ、理由を選びます。",
            )
        for col in self.columns:
            spec = col.spec
            if spec is None or not col.machine_id.startswith(L.FIELD_PREFIX):
                continue
            if spec.kind in (Kind.CHECKBOX, Kind.SIGNATURE):
                items = [L.MARK_YES, L.MARK_NO]
            elif spec.kind is Kind.CHOICE:
                items = [o.label_ja for o in spec.options or []]
            else:
                continue
            _validation(
                self.ws,
                _inline_or_sheet(self.lists, items),
                self.index[col.machine_id],
                first,
                last,
                spec.label_ja,
                "",
            )

    def row(self, r: int, row_key: str, doc: Document, export_id: str) -> L.ManifestRow:
        ws = self.ws
        flags = self.flags[doc.id]
        check = L.check_code(export_id, row_key, doc.id)
        manifest = L.ManifestRow(
            row_key=row_key,
            form_id=self.form.form_id,
            document_id=doc.id,
            check=check,
            flagged=[f for f in self.form.field_ids if f in flags.fields],
            codes=[f.code for f in doc.findings],
        )
        ws.row_dimensions[r].height = DATA_ROW_HEIGHT_PT

        def put(machine_id: str, value: Any, *, locked: bool = True, text: bool = True) -> Any:
            cell = ws.cell(row=r, column=self.index[machine_id], value=value)
            cell.font = _FONT
            cell.border = _BORDER
            cell.alignment = _WRAP_TOP
            if text:
                cell.number_format = "@"
            if locked:
                cell.fill = _FILLS["locked"]
            else:
                cell.protection = _UNLOCKED
            return cell

        put(L.COL_NO, int(row_key), text=False)
        put(L.COL_KEY, mask_text(doc.key) if doc.key else None)
        put(L.COL_REASONS, mask_text(_reasons_text(doc, self.form, flags))).font = _REASON_FONT
        put(L.COL_CONFIRM, None, locked=False).alignment = _CENTER
        put(L.COL_RETURN, None, locked=False).alignment = _VALUE_ALIGN
        page = self.page_images.get(doc.id)
        link = put(L.COL_PAGE, f"p.{page.page_no}" if page else None)
        if page is not None:
            link.hyperlink = page.path.resolve().as_uri()
            link.font = _LINK_FONT
            link.alignment = _CENTER
        put(L.COL_DOC, doc.id).font = _ID_FONT
        put(L.COL_CHECK, check).font = _ID_FONT

        for col in self.columns:
            spec = col.spec
            if spec is None:
                continue
            if col.machine_id.startswith(L.IMAGE_PREFIX):
                put(col.machine_id, None)
                if spec.id in flags.fields:
                    self._image(doc, spec, r, self.index[col.machine_id])
                continue
            shown = _shown(spec, doc)
            is_date = spec.kind is Kind.DATE and not isinstance(shown, str) and shown is not None
            cell = put(col.machine_id, shown, locked=False, text=not is_date)
            cell.font = _VALUE_FONT
            cell.alignment = _VALUE_ALIGN
            if is_date:
                cell.number_format = "yyyy-mm-dd"
            manifest.cells[spec.id] = L.cell_text(shown)
            if spec.id in flags.rules:
                cell.fill = _FILLS["rule"]
                messages = [f.reviewer_message_ja or f.message_ja for f in flags.rules[spec.id]]
                if spec.id in flags.low:
                    messages.append("読取りの確信度が低い項目です。画像と見比べてください。")
                comment = Comment(mask_text("\n".join(dict.fromkeys(messages))), "shinsei")
                comment.width, comment.height = 300, 120
                cell.comment = comment
            elif spec.id in flags.low:
                cell.fill = _FILLS["low"]
        return manifest

    def _image(self, doc: Document, spec: FieldSpec, row: int, col: int) -> None:
        thumb = self.thumbs.get((doc.id, spec.id))
        if thumb is None:
            return
        _place_image(self.ws, thumb.png, thumb.width, thumb.height, row, col)
        self.images += 1

    def protect(self) -> None:
        p = self.ws.protection
        p.sheet = True
        # Allowed while protected: filtering, widening columns and rows.
        p.autoFilter = False
        p.sort = False
        p.formatColumns = False
        p.formatRows = False
        p.selectLockedCells = False
        p.selectUnlockedCells = False


def _write_manifest(wb: Workbook, manifest: L.Manifest) -> str:
    ws = wb.create_sheet(L.MANIFEST_SHEET)
    ws.sheet_state = "veryHidden"
    digest = manifest.digest()
    head = [
        ("format", L.FORMAT),
        ("export_id", manifest.export_id),
        ("batch_id", manifest.batch_id),
        ("created_at", manifest.created_at),
        ("checksum", digest),
    ]
    for i, (k, v) in enumerate(head, start=1):
        ws.cell(row=i, column=1, value=k)
        ws.cell(row=i, column=2, value=v)
    r = len(head) + 2
    ws.cell(row=r, column=1, value="sheets")
    for title, form_id in manifest.sheets.items():
        r += 1
        ws.cell(row=r, column=1, value="sheet")
        ws.cell(row=r, column=2, value=title)
        ws.cell(row=r, column=3, value=form_id)
    r += 2
    for i, h in enumerate(["row_key", "form_id", "document_id", "check", "payload"], start=1):
        ws.cell(row=r, column=i, value=h)
    for row in manifest.rows:
        r += 1
        for i, v in enumerate(
            [row.row_key, row.form_id, row.document_id, row.check, row.payload()], start=1
        ):
            ws.cell(row=r, column=i, value=v).number_format = "@"
    ws.protection.sheet = True
    return digest


def _instructions(wb: Workbook, manifest: L.Manifest, counts: dict[str, int]) -> None:
    from review.instructions import write_instructions

    write_instructions(wb.create_sheet(L.INSTRUCTIONS_SHEET), manifest, counts)


def export_review(
    batch_id: str,
    out: Path,
    *,
    ledger: Ledger | None = None,
    exported_by: str = "review",
    confidence_threshold: float = DEFAULT_CONFIDENCE_THRESHOLD,
) -> ExportReport:
    """Write the review workbook of ``batch_id``'s documents in ``review`` to ``out``.

    Raises :class:`NothingToReview` when no document of the batch waits for
    review, :class:`BusinessError` when ``out`` is not an ``.xlsx`` path.
    The export is remembered in the ledger (``review_exports``) with its
    manifest digest, and audited.
    """
    if out.suffix.lower() != ".xlsx":
        raise BusinessError(f"{out}: the review workbook is written as .xlsx")
    ledger = ledger or Ledger()
    store = ReviewStore(ledger)
    ids = ledger.document_ids(batch_id=batch_id, states=[DocState.REVIEW])
    if not ids:
        raise NothingToReview(f"batch {batch_id}: no document is waiting for review")
    loaded = store.load_documents(ids)
    docs = [loaded[i] for i in ids if i in loaded]

    export_id = f"{datetime.now(UTC):%Y%m%d%H%M%S}-{uuid.uuid4().hex[:12]}"
    report = ExportReport(export_id=export_id, path=out, batch_id=batch_id, documents=0)
    by_form: dict[str, list[Document]] = defaultdict(list)
    forms: dict[str, FormSpec] = {}
    for doc in docs:
        if doc.form_id is None:
            report.skipped.append(f"{doc.id[:12]}: no form")
            continue
        if doc.form_id not in forms:
            forms[doc.form_id] = load_form(doc.form_id)
        by_form[doc.form_id].append(doc)

    page_images = store.page_images(docs)
    wb = Workbook()
    wb.remove(wb.active)
    lists = _ListsSheet(wb)
    manifest = L.Manifest(
        export_id=export_id,
        batch_id=batch_id,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        rows=[],
    )
    taken: set[str] = set()
    n = 0
    # The form with the most documents first: it is the sheet the workbook opens on.
    order = sorted(by_form, key=lambda f: (-len(by_form[f]), f))
    for position, form_id in enumerate(order):
        form = forms[form_id]
        title = _sheet_title(form, taken)
        ws = wb.create_sheet(title, index=position)
        manifest.sheets[title] = form_id
        sheet_docs = by_form[form_id]
        flags = {d.id: flags_of(d, form, confidence_threshold) for d in sheet_docs}
        writer = _SheetWriter(ws, form, sheet_docs, flags, lists, ledger.data_dir, page_images)
        writer.header()
        for i, doc in enumerate(sheet_docs):
            n += 1
            manifest.rows.append(writer.row(L.FIRST_DATA_ROW + i, str(n), doc, export_id))
        writer.validations()
        writer.protect()
        report.sheets[title] = len(sheet_docs)
        report.images += writer.images
        report.missing_images += writer.missing_images
    report.documents = n
    _instructions(wb, manifest, report.sheets)
    digest = _write_manifest(wb, manifest)
    wb.active = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    store.record_export(
        export_id=export_id,
        batch_id=batch_id,
        file=str(out),
        document_ids=[r.document_id for r in manifest.rows],
        manifest_sha256=digest,
        created_by=exported_by,
    )
    for problem in report.missing_images:
        log.warning("review export: crop image missing: %s", problem)
    return report


def export_pending(
    batch_id: str, folder: Path, *, ledger: Ledger | None = None, exported_by: str = "nightly"
) -> Path | None:
    """The batch's review workbook for tonight: a new export only when it would differ.

    Returns ``None`` when nothing waits for review. When the latest export of
    the batch holds exactly the documents waiting now, that workbook is
    returned as it is: a re-run of the night does not hand reviewers a second
    copy of the same work.
    """
    ledger = ledger or Ledger()
    waiting = ledger.document_ids(batch_id=batch_id, states=[DocState.REVIEW])
    if not waiting:
        return None
    latest = ReviewStore(ledger).latest_export(batch_id)
    if (
        latest is not None
        and set(latest.document_ids) == set(waiting)
        and Path(latest.file).is_file()
    ):
        return Path(latest.file)
    out = folder / f"review-{batch_id}-{datetime.now(UTC):%Y%m%d-%H%M%S}.xlsx"
    return export_review(batch_id, out, ledger=ledger, exported_by=exported_by).path
