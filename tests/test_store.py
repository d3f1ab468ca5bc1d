from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.exc import DBAPIError

from shinsei.errors import IllegalTransitionError
from shinsei.model import TRANSITIONS, DocState, Document, FieldValue, Finding
from store import Ledger


def _register(ledger: Ledger, tmp_path: Path, name: str = "a.png", doc_id: str = "a" * 64) -> str:
    src = tmp_path / name
    src.write_bytes(b"scan bytes of " + name.encode())
    ledger.ensure_batch("b1", date(2020, 6, 1))
    ledger.register_document(
        doc_id=doc_id,
        batch_id="b1",
        file=str(src),
        source=src,
        size_bytes=10,
        page_sizes=[(10, 10)],
    )
    return doc_id


def _extracted(ledger: Ledger, doc_id: str, my_number: str = "123456789018") -> Document:
    doc = Document(
        id=doc_id,
        file="a.png",
        form_id="kaigo_nintei",
        key="0012345678",
        pages=1,
        fields={
            "my_number": FieldValue("my_number", my_number, 0.99, "ocr", raw=my_number),
            "name": FieldValue("name", "山田　太郎", 0.97, "ocr"),
        },
    )
    ledger.save_extraction(doc)
    return doc


def test_every_state_has_its_transitions_declared() -> None:
    assert set(TRANSITIONS) == set(DocState)
    # Keyed and mailed documents have left the building: nothing moves them.
    assert TRANSITIONS[DocState.KEYED] == frozenset()
    assert TRANSITIONS[DocState.MAILED] == frozenset()


def test_legal_path_to_ready_and_keyed(ledger: Ledger, tmp_path: Path) -> None:
    doc_id = _register(ledger, tmp_path)
    _extracted(ledger, doc_id)
    assert ledger.save_validation(doc_id, "accept", []) is DocState.READY
    ledger.transition(doc_id, DocState.KEYED, actor="robot")
    assert ledger.load(doc_id).state is DocState.KEYED


def test_illegal_transition_is_refused_and_leaves_no_trace(ledger: Ledger, tmp_path: Path) -> None:
    doc_id = _register(ledger, tmp_path)
    rows_before = ledger.verify_audit().rows
    with pytest.raises(IllegalTransitionError, match="received → keyed"):
        ledger.transition(doc_id, DocState.KEYED, actor="robot")
    assert ledger.load(doc_id).state is DocState.RECEIVED
    assert ledger.verify_audit().rows == rows_before


def test_every_transition_writes_one_audit_row(ledger: Ledger, tmp_path: Path) -> None:
    doc_id = _register(ledger, tmp_path)
    before = ledger.verify_audit().rows
    _extracted(ledger, doc_id)
    ledger.save_validation(doc_id, "review", [Finding("X_WARN", ["name"], "warning", "確認")])
    # extracted, validated, decided
    assert ledger.verify_audit().rows == before + 3


def test_fields_and_findings_round_trip_and_are_replaced(ledger: Ledger, tmp_path: Path) -> None:
    doc_id = _register(ledger, tmp_path)
    _extracted(ledger, doc_id)
    ledger.save_validation(doc_id, "review", [Finding("X_WARN", ["name"], "warning", "確認")])
    correction = FieldValue("name", "山田　太朗", 1.0, "review", raw="山田太朗", reviewer="suzuki")
    ledger.save_corrections(doc_id, [correction], reviewer="suzuki")
    ledger.save_validation(doc_id, "accept", [])
    doc = ledger.load(doc_id)
    assert doc.state is DocState.READY
    assert doc.fields["name"].value == "山田　太朗"
    assert doc.fields["name"].source == "review"
    assert doc.fields["name"].reviewer == "suzuki"
    assert doc.fields["my_number"].value == "123456789018"  # untouched field kept
    assert doc.findings == []


def test_audit_chain_verifies(ledger: Ledger, tmp_path: Path) -> None:
    doc_id = _register(ledger, tmp_path)
    _extracted(ledger, doc_id)
    report = ledger.verify_audit()
    assert report.ok, report.problems
    assert report.rows >= 3


def test_audit_log_refuses_update_and_delete(ledger: Ledger, tmp_path: Path) -> None:
    _register(ledger, tmp_path)
    with pytest.raises(DBAPIError, match="append-only"), ledger.tx() as conn:
        conn.exec_driver_sql("UPDATE audit_log SET actor = 'someone' WHERE seq = 1")
    with pytest.raises(DBAPIError, match="append-only"), ledger.tx() as conn:
        conn.exec_driver_sql("DELETE FROM audit_log WHERE seq = 1")


def _sqlite_file(data_dir: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(data_dir / "shinsei.db")
    conn.execute("DROP TRIGGER audit_log_no_update")
    conn.execute("DROP TRIGGER audit_log_no_delete")
    return conn


def test_tampered_audit_row_is_detected(ledger: Ledger, tmp_path: Path, data_dir: Path) -> None:
    doc_id = _register(ledger, tmp_path)
    _extracted(ledger, doc_id)
    conn = _sqlite_file(data_dir)
    conn.execute("UPDATE audit_log SET actor = 'intruder' WHERE seq = 2")
    conn.commit()
    report = ledger.verify_audit()
    assert not report.ok
    assert any("row 2" in p and "changed" in p for p in report.problems)


def test_deleted_audit_rows_are_detected(ledger: Ledger, tmp_path: Path, data_dir: Path) -> None:
    doc_id = _register(ledger, tmp_path)
    _extracted(ledger, doc_id)
    ledger.save_validation(doc_id, "accept", [])
    conn = _sqlite_file(data_dir)
    conn.execute("DELETE FROM audit_log WHERE seq = 2")
    conn.commit()
    assert any("row 2: missing" in p for p in ledger.verify_audit().problems)
    last = conn.execute("SELECT max(seq) FROM audit_log").fetchone()[0]
    conn.execute("DELETE FROM audit_log WHERE seq = ?", (last,))
    conn.commit()
    assert any("removed" in p for p in ledger.verify_audit().problems)


def test_audit_detail_masks_personal_numbers(ledger: Ledger, tmp_path: Path) -> None:
    doc_id = _register(ledger, tmp_path)
    _extracted(ledger, doc_id)
    with ledger.tx() as conn:
        from store import audit

        audit.append(conn, actor="t", action="note", detail={"my_number": "123456789018"})
        details = [r[0] for r in conn.exec_driver_sql("SELECT detail FROM audit_log")]
    assert not any("123456789018" in d for d in details)
    assert any("********9018" in d for d in details)


def test_register_twice_is_one_document(ledger: Ledger, tmp_path: Path) -> None:
    _register(ledger, tmp_path)
    _register(ledger, tmp_path)
    assert len(ledger.document_ids(batch_id="b1")) == 1


def test_failed_document_can_be_retried(ledger: Ledger, tmp_path: Path) -> None:
    doc_id = _register(ledger, tmp_path)
    ledger.fail(doc_id, stage="ocr", reason="engine crashed", actor="ocr")
    row = ledger.find_document(doc_id)
    assert row is not None
    assert (row.state, row.failed_stage, row.attempts) == (DocState.FAILED, "ocr", 1)
    ledger.transition(doc_id, DocState.RECEIVED, actor="operator", action="retry")
    assert ledger.load(doc_id).state is DocState.RECEIVED
