"""Take a reviewer's workbook back into the ledger (確認表の取込み).

The import reads only what the export wrote, wherever it now is: form
sheets are found by their hidden machine-id row, columns by their machine
id, rows by their number (No.), document id and check code. Rows may have
been sorted, filtered or deleted; extra sheets and columns are ignored. A
cell is a correction only when its text differs from the text the export
recorded for it in the manifest.

Everything is checked before anything is written. The workbook is refused
as a whole, with every problem named by sheet, row and column, when

* it is not an .xlsx (a .xls, .csv or .ods must be saved as .xlsx again);
* its manifest is missing, was edited, or belongs to no export of this
  ledger; a row's number, document id or check code was edited;
* a corrected value cannot be a value of its field (the field's normaliser
  refuses it, it has more digits than boxes, a My Number with a wrong check
  digit), a masked number was partly overwritten, a cell holds a formula, a
  確認済 / 返戻理由 cell holds something not in its list.

Then, in one transaction, each corrected, confirmed or returned document
gets its corrections (source ``review``, confidence 1.0, the reviewer's
name), the form's rules run again, and it moves ``review → reviewed →
ready | rejected | review`` with audit rows. Importing the same workbook
again changes nothing: a plan already applied for a document (same export,
same corrections) is skipped, and so are corrections equal to the ledger's
current reviewed values.
"""

from __future__ import annotations

import hashlib
import json
import logging
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from forms.loader import load_form
from forms.schema import FieldSpec, FormSpec, Kind
from review import layout as L
from review.exporter import return_reasons
from shinsei.errors import BusinessError
from shinsei.model import DocState, Document, FieldValue, Finding
from shinsei.privacy import SENSITIVE_FIELDS
from shinsei.residents import registry
from store.ledger import Ledger
from store.review import ReviewStore
from validators.engine import (
    DEFAULT_CONFIDENCE_THRESHOLD,
    RuleContext,
    field_statuses,
    finding_of,
    validate,
)
from validators.japanese import fold_width
from validators.normalize import InvalidValue, normalize_field
from validators.registry import Violation, rule_check

log = logging.getLogger(__name__)

#: Rules whose failure means a typed value cannot be a value of the field at all
#: (as opposed to a deficiency of the application, which the rules report later).
VALUE_RULES = frozenset({"my_number_valid"})

_CONFIRM_WORDS = {L.CONFIRMED, "済", "✓", "○", "〇", "確認"}
_MAX_LISTED = 60


class WorkbookRefused(BusinessError):
    """The workbook cannot be imported; ``problems`` name sheet, row and column."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        shown = problems[:_MAX_LISTED]
        more = len(problems) - len(shown)
        text = "\n".join(f"  - {p}" for p in shown)
        if more > 0:
            text += f"\n  - ほか {more} 件"
        super().__init__(f"{path}: 取り込めません（台帳は変更していません）\n{text}")
        self.path = path
        self.problems = problems


@dataclass
class ImportReport:
    """What one import did."""

    export_id: str
    reviewer: str
    cells_changed: int = 0
    moved: dict[str, str] = field(default_factory=dict)
    """Document id → the state it moved to."""
    already_applied: int = 0
    untouched: int = 0
    skipped: list[str] = field(default_factory=list)
    """Rows not applied because their document had moved on (not in ``review``)."""
    missing_rows: int = 0
    """Exported rows not found in the workbook (deleted): those documents stay in review."""

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for state in self.moved.values():
            out[state] = out.get(state, 0) + 1
        return out


@dataclass
class _Cell:
    value: Any
    data_type: str
    row: int
    col: int


@dataclass
class _RowPlan:
    """One row's intent: corrected values, confirmation, return reason."""

    mrow: L.ManifestRow
    where: str
    changes: dict[str, tuple[Any, str]] = field(default_factory=dict)
    confirmed: bool = False
    return_code: str | None = None

    def digest(self) -> str:
        body = json.dumps(
            {
                "changes": {k: [v, raw] for k, (v, raw) in sorted(self.changes.items())},
                "confirmed": self.confirmed,
                "return": self.return_code,
            },
            ensure_ascii=False,
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _where(sheet: str, row: int, col: int | None = None, label: str = "") -> str:
    text = f"シート「{sheet}」{row}行"
    if col is not None:
        text += f" {get_column_letter(col)}列"
    if label:
        text += f"（{label}）"
    return text


def check_file(path: Path) -> None:
    """Refuse anything but an .xlsx workbook, with what to do about it."""
    suffix = path.suffix.lower()
    if suffix in (".xls", ".csv", ".ods", ".xlsb", ".tsv", ".txt"):
        raise WorkbookRefused(
            path,
            [
                f"{suffix} 形式のファイルは取り込めません。Excel または LibreOffice で開き、"
                "「Excel ブック（.xlsx）」形式で保存し直してください。"
            ],
        )
    if suffix not in (".xlsx", ".xlsm"):
        raise WorkbookRefused(path, ["確認表は .xlsx 形式で保存してください。"])
    if not path.is_file():
        raise WorkbookRefused(path, ["ファイルが見つかりません。"])
    if not zipfile.is_zipfile(path):
        raise WorkbookRefused(
            path,
            [
                "中身が .xlsx 形式ではありません（.xls や .csv の名前だけを変えたファイル？）。"
                "「Excel ブック（.xlsx）」形式で保存し直してください。"
            ],
        )


def _open(path: Path) -> Workbook:
    try:
        return load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise WorkbookRefused(path, [f"ブックを開けません（{type(exc).__name__}: {exc}）"]) from exc


# -- the manifest -------------------------------------------------------------


def read_manifest(wb: Workbook, path: Path) -> L.Manifest:
    """The hidden sheet's manifest, after checking it against its own checksum."""
    if L.MANIFEST_SHEET not in wb.sheetnames:
        raise WorkbookRefused(
            path,
            [
                "shinsei の管理シートがありません。shinsei review export で出力した"
                "確認表に記入して返してください。"
            ],
        )
    ws = wb[L.MANIFEST_SHEET]
    if isinstance(ws, ReadOnlyWorksheet):
        ws.reset_dimensions()  # a file's stated dimensions may be wrong (LibreOffice, others)
    head: dict[str, str] = {}
    sheets: dict[str, str] = {}
    rows: list[L.ManifestRow] = []
    in_rows = False
    try:
        for values in ws.iter_rows(values_only=True):
            cells = ["" if v is None else str(v) for v in values]
            if not any(cells):
                continue
            cells += [""] * (5 - len(cells))
            if in_rows:
                payload = json.loads(cells[4])
                rows.append(
                    L.ManifestRow(
                        row_key=cells[0],
                        form_id=cells[1],
                        document_id=cells[2],
                        check=cells[3],
                        cells={k: str(v) for k, v in payload["cells"].items()},
                        flagged=list(payload["flagged"]),
                        codes=list(payload["codes"]),
                    )
                )
            elif cells[0] == "row_key":
                in_rows = True
            elif cells[0] == "sheet":
                sheets[cells[1]] = cells[2]
            elif cells[0] != "sheets":
                head[cells[0]] = cells[1]
    except (ValueError, KeyError, TypeError) as exc:
        raise WorkbookRefused(path, [f"管理シートが壊れています（{exc}）"]) from exc
    if head.get("format") != L.FORMAT or "export_id" not in head:
        raise WorkbookRefused(path, ["管理シートの形式が違います（別の版の shinsei の確認表？）"])
    manifest = L.Manifest(
        export_id=head["export_id"],
        batch_id=head.get("batch_id", ""),
        created_at=head.get("created_at", ""),
        rows=rows,
        sheets=sheets,
    )
    if manifest.digest() != head.get("checksum"):
        raise WorkbookRefused(
            path, ["管理シートが書き換えられています（チェックサムが一致しません）。"]
        )
    return manifest


# -- reading the form sheets -------------------------------------------------------


@dataclass
class _Sheet:
    title: str
    columns: dict[str, int]
    rows: list[tuple[int, dict[str, _Cell]]]


def _read_sheets(wb: Workbook, manifest: L.Manifest, problems: list[str]) -> list[_Sheet]:
    found: list[_Sheet] = []
    for ws in wb.worksheets:
        if ws.title in (L.MANIFEST_SHEET, L.LISTS_SHEET, L.INSTRUCTIONS_SHEET):
            continue
        if isinstance(ws, ReadOnlyWorksheet):
            ws.reset_dimensions()
        columns: dict[str, int] | None = None
        id_row = 0
        rows: list[tuple[int, dict[str, _Cell]]] = []
        for r, cells in enumerate(ws.iter_rows(), start=1):
            if columns is None:
                ids = {
                    str(c.value): i
                    for i, c in enumerate(cells, start=1)
                    if isinstance(c.value, str) and c.value.startswith("@")
                }
                if L.COL_NO in ids and L.COL_DOC in ids:
                    columns, id_row = _column_map(ws.title, r, cells, problems), r
                elif r >= 5:
                    break
                continue
            if r == id_row + 1:
                continue  # the Japanese header row
            wanted = {}
            for mid, i in columns.items():
                if i - 1 < len(cells):
                    c = cells[i - 1]
                    wanted[mid] = _Cell(c.value, getattr(c, "data_type", "n") or "n", r, i)
            if any(c.value not in (None, "") for c in wanted.values()):
                rows.append((r, wanted))
        if columns is None:
            if ws.title in manifest.sheets:
                problems.append(
                    f"シート「{ws.title}」: 非表示の1行目（列の識別行）が見つかりません。"
                    "1行目を削除せずに保存してください。"
                )
            continue
        found.append(_Sheet(ws.title, columns, rows))
    return found


def _column_map(title: str, r: int, cells: Any, problems: list[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for i, c in enumerate(cells, start=1):
        if isinstance(c.value, str) and c.value.startswith("@"):
            if c.value in columns:
                problems.append(
                    f"{_where(title, r, i)}: 列「{c.value}」が2つあります"
                    f"（{get_column_letter(columns[c.value])}列と{get_column_letter(i)}列）。"
                    "コピーした列を削除してください。"
                )
            columns[c.value] = i
    for needed in (L.COL_NO, L.COL_DOC, L.COL_CHECK):
        if needed not in columns:
            problems.append(f"シート「{title}」: 列 {needed} が削除されています。")
    return columns


# -- from cells to a plan ------------------------------------------------------------


def _is_formula(cell: _Cell) -> bool:
    if cell.data_type == "f":
        return True
    value = cell.value
    if isinstance(value, str):
        return value.startswith("=")
    return not (value is None or isinstance(value, (str, int, float, bool, date, datetime)))


def _raw_of(value: Any) -> str | date | int | float | None:
    """What the normaliser gets for a cell value (Excel dates as dates)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return L.MARK_YES if value else L.MARK_NO
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, (date, int, float)):
        return value
    return str(value)


class _Checker:
    """Turns the cells of one row into a plan, noting every problem."""

    def __init__(self, ledger: Ledger, manifest: L.Manifest, problems: list[str]) -> None:
        self.ledger = ledger
        self.manifest = manifest
        self.problems = problems
        self.forms: dict[str, FormSpec] = {}
        self.contexts: dict[str, RuleContext] = {}
        self.reasons: dict[str, dict[str, str]] = {}

    def form(self, form_id: str) -> FormSpec:
        if form_id not in self.forms:
            self.forms[form_id] = load_form(form_id)
            self.reasons[form_id] = dict(return_reasons(self.forms[form_id]))
        return self.forms[form_id]

    def context(self, form_id: str) -> RuleContext:
        if form_id not in self.contexts:
            self.contexts[form_id] = RuleContext(
                form=self.form(form_id),
                receipt_date=self.ledger.receipt_date(self.manifest.batch_id),
                registry=registry(),
                prior_applications=self.ledger.prior_applications,
                confidence_threshold=DEFAULT_CONFIDENCE_THRESHOLD,
            )
        return self.contexts[form_id]

    def plan(self, sheet: _Sheet, mrow: L.ManifestRow, cells: dict[str, _Cell]) -> _RowPlan:
        form = self.form(mrow.form_id)
        r = next(iter(cells.values())).row
        plan = _RowPlan(mrow=mrow, where=_where(sheet.title, r))
        for mid, cell in cells.items():
            if _is_formula(cell):
                self.problems.append(
                    f"{_where(sheet.title, cell.row, cell.col, _label(form, mid))}: "
                    "数式は使えません。値を入力してください。"
                )
        for mid, cell in cells.items():
            if _is_formula(cell):
                continue
            if mid.startswith(L.FIELD_PREFIX):
                fid = mid.removeprefix(L.FIELD_PREFIX)
                if fid in mrow.cells:
                    self._field(sheet, form, mrow, fid, cell, plan)
            elif mid == L.COL_CONFIRM:
                text = fold_width(L.cell_text(cell.value))
                if text in _CONFIRM_WORDS:
                    plan.confirmed = True
                elif text:
                    self.problems.append(
                        f"{_where(sheet.title, cell.row, cell.col, '確認済')}: "
                        f"「{text}」ではなく「{L.CONFIRMED}」を選ぶか空欄にしてください。"
                    )
            elif mid == L.COL_RETURN:
                plan.return_code = self._return_code(sheet, form, cell)
        return plan

    def _return_code(self, sheet: _Sheet, form: FormSpec, cell: _Cell) -> str | None:
        text = fold_width(L.cell_text(cell.value))
        if not text:
            return None
        code = text.replace("：", " ").replace(":", " ").split()[0]
        if code in self.reasons[form.form_id]:
            return code
        self.problems.append(
            f"{_where(sheet.title, cell.row, cell.col, '返戻理由')}: "
            f"「{text}」は返戻理由の一覧にありません。一覧（▼）から選んでください。"
        )
        return None

    def _field(
        self,
        sheet: _Sheet,
        form: FormSpec,
        mrow: L.ManifestRow,
        fid: str,
        cell: _Cell,
        plan: _RowPlan,
    ) -> None:
        text = L.cell_text(cell.value)
        if text == mrow.cells[fid]:
            return  # untouched (a masked number left as shown means "unchanged")
        spec = form.field(fid)
        where = _where(sheet.title, cell.row, cell.col, spec.label_ja)
        if fid in SENSITIVE_FIELDS and "*" in text:
            self.problems.append(
                f"{where}: 下4桁だけ表示された番号の一部は書き換えられません。"
                "全桁を入力してください。"
            )
            return
        try:
            value = normalize_field(spec, _raw_of(cell.value))
        except InvalidValue as exc:
            self.problems.append(f"{where}: {exc.message_ja}")
            return
        problem = self._cannot_hold(form, spec, value)
        if problem:
            self.problems.append(f"{where}: {problem}")
            return
        plan.changes[fid] = (value, text)

    def _cannot_hold(self, form: FormSpec, spec: FieldSpec, value: Any) -> str | None:
        if value is None:
            return None
        if spec.kind is Kind.DIGITS and spec.length and len(str(value)) > spec.length:
            return f"{spec.length}桁より多い数字は記入できません（{len(str(value))}桁）。"
        trial = Document(
            id="review-trial",
            file="",
            form_id=form.form_id,
            fields={spec.id: FieldValue(spec.id, value, 1.0, "review")},
        )
        for rule in form.rules:
            if rule.rule not in VALUE_RULES or spec.id not in rule.fields:
                continue
            violation = rule_check(rule.rule)(trial, rule, self.context(form.form_id))
            if violation is not None:
                finding = finding_of(rule, violation, form)
                return finding.reviewer_message_ja or finding.message_ja
        return None


def _label(form: FormSpec, machine_id: str) -> str:
    if machine_id.startswith(L.FIELD_PREFIX):
        try:
            return form.field(machine_id.removeprefix(L.FIELD_PREFIX)).label_ja
        except KeyError:
            return ""
    return {
        L.COL_NO: "No.",
        L.COL_DOC: "文書ID",
        L.COL_CHECK: "照合",
        L.COL_CONFIRM: "確認済",
        L.COL_RETURN: "返戻理由",
    }.get(machine_id, "")


def _plans(
    sheets: list[_Sheet], manifest: L.Manifest, checker: _Checker, problems: list[str]
) -> list[_RowPlan]:
    by_key = {r.row_key: r for r in manifest.rows}
    seen: dict[str, str] = {}
    plans: list[_RowPlan] = []
    for sheet in sheets:
        for r, cells in sheet.rows:
            key_cell = cells.get(L.COL_NO)
            doc_cell = cells.get(L.COL_DOC)
            check_cell = cells.get(L.COL_CHECK)
            key = L.cell_text(key_cell.value) if key_cell else ""
            mrow = by_key.get(key)
            if mrow is None:
                col = key_cell.col if key_cell else None
                problems.append(
                    f"{_where(sheet.title, r, col, 'No.')}: "
                    f"No.「{key}」はこの確認表の行ではありません"
                    "（No. 列が書き換えられたか、別の確認表から貼り付けた行です）。"
                )
                continue
            if doc_cell is None or L.cell_text(doc_cell.value) != mrow.document_id:
                col = doc_cell.col if doc_cell else None
                problems.append(
                    f"{_where(sheet.title, r, col, '文書ID')}: 文書IDが書き換えられています"
                    f"（No.{key} の文書IDと一致しません）。"
                )
                continue
            if check_cell is None or L.cell_text(check_cell.value) != mrow.check:
                col = check_cell.col if check_cell else None
                problems.append(
                    f"{_where(sheet.title, r, col, '照合')}: 照合コードが一致しません"
                    "（別の出力の確認表か、ID が書き換えられています）。"
                )
                continue
            here = _where(sheet.title, r)
            if key in seen:
                problems.append(
                    f"{here}: No.{key} の行が {seen[key]} にもあります。重複を削除してください。"
                )
                continue
            seen[key] = here
            plans.append(checker.plan(sheet, mrow, cells))
    return plans


# -- applying -------------------------------------------------------------------


def _corrections(plan: _RowPlan, doc: Document, reviewer: str) -> list[FieldValue]:
    out: list[FieldValue] = []
    for fid, (value, raw) in plan.changes.items():
        current = doc.fields.get(fid)
        if (
            current is not None
            and current.source == "review"
            and current.confidence >= 1.0
            and current.value == value
        ):
            continue  # already the reviewed value
        out.append(
            FieldValue(
                field_id=fid,
                value=value,
                confidence=1.0,
                source="review",
                raw=raw,
                status="missing" if value in (None, [], "") else "ok",
                crop=current.crop if current else None,
                reviewer=reviewer,
            )
        )
    if plan.confirmed:
        for fid in plan.mrow.flagged:
            current = doc.fields.get(fid)
            if fid in plan.changes or current is None:
                continue
            if current.source == "review" and current.confidence >= 1.0 and not current.flags:
                continue
            out.append(
                replace(
                    current,
                    confidence=1.0,
                    source="review",
                    reviewer=reviewer,
                    flags=[],
                    status="ok",
                    char_confidences=[],
                )
            )
    return out


def _decide(
    plan: _RowPlan, doc: Document, ctx: RuleContext, form: FormSpec
) -> tuple[str, list[Finding]]:
    result = validate(doc, ctx)
    found = list(result.findings)
    if plan.return_code is not None:
        rule = next(r for r in form.rules if r.code == plan.return_code)
        finding = finding_of(rule, Violation(list(rule.fields), detail="確認者の判断"), form)
        finding.severity = "error"
        if all(f.code != plan.return_code for f in found):
            found.append(finding)
        return "reject", found
    decision = str(result.decision)
    if decision == "review" and plan.confirmed:
        # The reviewer confirmed the row: warnings they were shown are settled.
        # Uncertain readings left, warnings they did not see, or errors on
        # doubtful readings still need a person.
        statuses = field_statuses(doc, ctx)
        pending = any(s == "review" for s in statuses.values())
        unseen = [f for f in found if f.severity == "warning" and f.code not in plan.mrow.codes]
        errors = [f for f in found if f.severity == "error"]
        if not pending and not unseen and not errors:
            decision = "accept"
    return decision, found


def import_review(path: Path, *, reviewer: str, ledger: Ledger | None = None) -> ImportReport:
    """Import a reviewer's workbook; see the module docstring for what is refused.

    Raises :class:`WorkbookRefused` (nothing written) when the workbook
    cannot be imported as a whole.
    """
    reviewer = reviewer.strip()
    if not reviewer:
        raise BusinessError("the reviewer's name is required (--reviewer)")
    check_file(path)
    ledger = ledger or Ledger()
    store = ReviewStore(ledger)
    wb = _open(path)
    problems: list[str] = []
    try:
        manifest = read_manifest(wb, path)
        export = store.find_export(manifest.export_id)
        if export is None:
            raise WorkbookRefused(
                path,
                [
                    f"出力ID {manifest.export_id} の確認表はこの台帳から出力されていません"
                    "（別の環境・別の台帳の確認表です）。"
                ],
            )
        if export.manifest_sha256 != manifest.digest():
            raise WorkbookRefused(
                path,
                [f"出力ID {manifest.export_id} の記録と管理シートが一致しません（改ざんの疑い）。"],
            )
        sheets = _read_sheets(wb, manifest, problems)
    finally:
        wb.close()
    checker = _Checker(ledger, manifest, problems)
    plans = _plans(sheets, manifest, checker, problems)
    if problems:
        raise WorkbookRefused(path, problems)

    report = ImportReport(export_id=manifest.export_id, reviewer=reviewer)
    report.missing_rows = len(manifest.rows) - len(plans)
    report.cells_changed = sum(len(p.changes) for p in plans)
    active = [p for p in plans if p.changes or p.confirmed or p.return_code]
    report.untouched = len(plans) - len(active)
    docs = store.load_documents([p.mrow.document_id for p in active])
    applied = store.applied_plans(manifest.export_id, [p.mrow.document_id for p in active])
    file_sha = hashlib.sha256(path.read_bytes()).hexdigest()
    # Decide everything first: the rules read the ledger, and SQLite lets no
    # other connection in while the write transaction below is open.
    work: list[tuple[_RowPlan, Document, list[FieldValue], str, list[Finding], str]] = []
    for plan in active:
        doc = docs[plan.mrow.document_id]
        digest = plan.digest()
        if digest in applied.get(doc.id, set()):
            report.already_applied += 1
            continue
        corrections = _corrections(plan, doc, reviewer)
        if doc.state is not DocState.REVIEW:
            if corrections or (
                plan.return_code is not None
                and plan.return_code not in {f.code for f in doc.findings}
            ):
                report.skipped.append(
                    f"{plan.where} No.{plan.mrow.row_key}: 文書は既に「{doc.state}」のため"
                    "取り込みませんでした。"
                )
            else:
                report.already_applied += 1
            continue
        for c in corrections:
            doc.fields[c.field_id] = c
        form = checker.form(plan.mrow.form_id)
        decision, found = _decide(plan, doc, checker.context(form.form_id), form)
        work.append((plan, doc, corrections, decision, found, digest))
    with ledger.tx() as conn:
        for plan, doc, corrections, decision, found, digest in work:
            state = store.apply(
                conn,
                doc.id,
                corrections,
                reviewer=reviewer,
                decision=decision,
                found=found,
                detail={
                    "export_id": manifest.export_id,
                    "row": plan.mrow.row_key,
                    "confirmed": plan.confirmed,
                    "return": plan.return_code,
                },
            )
            store.record_plan(conn, manifest.export_id, doc.id, digest, reviewer, str(state))
            report.moved[doc.id] = str(state)
        if not report.moved:
            return report  # nothing changed: not even an audit row (re-imports are no-ops)
        store.record_import(
            conn,
            export_id=manifest.export_id,
            reviewer=reviewer,
            detail={
                "file": path.name,
                "file_sha256": file_sha,
                "cells_changed": report.cells_changed,
                "moved": report.counts(),
                "already_applied": report.already_applied,
                "skipped": len(report.skipped),
            },
        )
    return report


def iter_problems(exc: WorkbookRefused) -> Iterator[str]:
    """The problems of a refused workbook, one line each (for the CLI)."""
    yield from exc.problems
