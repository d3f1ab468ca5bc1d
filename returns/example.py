"""Render the example letter of ``docs/letter-example.png`` through the real stage.

``python -m returns.example docs/letter-example.png`` registers one rejected
特別定額給付金 application in a throw-away ledger (a registry household with a
variant-glyph surname, three deficiencies with the messages of
forms/kyufukin/form.yaml), runs :func:`returns.produce_letters` and turns
the letter's first page into a PNG with pdftoppm.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

from forms.loader import load_form
from shinsei.model import Document, FieldValue, Finding
from shinsei.residents import registry

HOUSEHOLD = "H000054"  # 髙橋　英雄 (髙 U+9AD9)
CODES = ["KF_ACCOUNT_NUMBER_LENGTH", "KF_ACCOUNT_HOLDER_MISMATCH", "KF_SIGNATURE_MISSING"]


def render_example(png: Path, *, dpi: int = 100) -> None:
    """Write the example letter's first page to ``png``."""
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["SHINSEI_DATA_DIR"] = str(Path(tmp) / "data")
        os.environ.pop("SHINSEI_DB_URL", None)
        from returns import produce_letters
        from store import Ledger

        ledger = Ledger()
        rules = {r.code: r for r in load_form("kyufukin").rules}
        household = registry().households[HOUSEHOLD]
        scan = Path(tmp) / "scan.pdf"
        scan.write_bytes(b"example scan")
        doc_id = hashlib.sha256(scan.read_bytes()).hexdigest()
        ledger.ensure_batch("2020-06-01", date(2020, 6, 1))
        ledger.register_document(
            doc_id=doc_id,
            batch_id="2020-06-01",
            file=str(scan),
            source=scan,
            size_bytes=12,
            page_sizes=[(2480, 3508)],
        )
        applicant = FieldValue("applicant_no", household.applicant_no, 1.0, "preprinted")
        ledger.save_extraction(
            Document(
                id=doc_id,
                file=str(scan),
                pages=1,
                form_id="kyufukin",
                key=household.applicant_no,
                fields={"applicant_no": applicant},
            )
        )
        findings = [Finding(c, list(rules[c].fields), "error", rules[c].message_ja) for c in CODES]
        ledger.save_validation(doc_id, "reject", findings)
        report = produce_letters(ledger, "2020-06-01", date(2020, 6, 2))
        pdf = Path(report.types[0].pdf)
        stem = Path(tmp) / "page"
        subprocess.run(
            ["pdftoppm", "-r", str(dpi), "-png", "-f", "1", "-l", "1", str(pdf), str(stem)],
            check=True,
        )
        png.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(next(Path(tmp).glob("page*.png")), png)


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/letter-example.png")
    render_example(target)
    print(target)
