"""A batch of documents waiting for review, built from the resident registry.

For the demo, the tests, the benchmark and the screenshot in ``docs/``:
applications of real registry households (特別定額給付金) and insured
residents (要介護認定) as OCR would have stored them, with handwriting-like
crops of the fields a reviewer must look at, a page image, some readings
below the confidence threshold and some rule warnings. The form's real rules
decide each document, so every one of them is in ``review`` for the reasons
the validators give.

    python -m review.demo --batch demo-review --kyufukin 20 --kaigo 5
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont, ImageOps

from forms.loader import form_dir, load_form
from forms.schema import FieldSpec, FormSpec, Kind
from review import layout as L
from shinsei.model import DocState, Document, FieldValue
from shinsei.residents import Household, Member, registry
from store.ledger import Ledger
from validators.engine import RuleContext, validate
from validators.wareki import to_wareki

RECEIPT = date(2020, 6, 1)

_HAND_FONTS = [
    "/usr/share/fonts/truetype/klee/KleeOne-Regular.ttf",
    "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
]

#: Fields of each form whose reading the demo makes uncertain, one to three per document.
DOUBTFUL = {
    "kyufukin": [
        "account_number",
        "account_holder_kana",
        "phone",
        "application_date",
        "branch_name",
        "bank_type",
        "signature",
    ],
    "kaigo_nintei": ["my_number", "insured_number", "phone", "name_kana", "birth_date"],
}

#: Branch names as OCR misreads them (one stroke lost or added).
MISREAD_BRANCH = {"本山": "木山", "三宮": "三官", "神戸": "神声"}

BANKS = [("みなと", "本山"), ("三井住友", "三宮"), ("三菱ＵＦＪ", "神戸"), ("みずほ", "神戸")]


@dataclass
class DemoBatch:
    """What :func:`make_review_batch` registered."""

    batch_id: str
    document_ids: list[str] = field(default_factory=list)
    by_form: dict[str, list[str]] = field(default_factory=dict)


@cache
def _font(size: int) -> ImageFont.FreeTypeFont:
    for path in _HAND_FONTS:
        if Path(path).is_file():
            return ImageFont.truetype(path, size)
    raise FileNotFoundError("no Japanese font: install fonts-klee or fonts-ipaexfont")


def render_crop(text: str, path: Path, *, comb: int | None = None) -> None:
    """A field's crop as a 300 dpi scan would show it: the writing in its box or comb cells."""
    font = _font(64)
    if comb:
        cell = 84
        img = Image.new("L", (cell * comb + 8, cell + 16), 255)
        draw = ImageDraw.Draw(img)
        for i in range(comb):
            draw.rectangle([4 + i * cell, 8, 4 + (i + 1) * cell, 8 + cell], outline=150, width=2)
        # Right-aligned in the cells, as residents write account numbers.
        start = comb - len(text)
        for i, ch in enumerate(text):
            x = 4 + (start + i) * cell + 14
            draw.text((x, 14), ch, font=font, fill=30)
    else:
        width = max(240, int(draw_width(text, font)) + 48)
        img = Image.new("L", (width, 110), 255)
        draw = ImageDraw.Draw(img)
        draw.rectangle([2, 2, width - 3, 107], outline=150, width=2)
        draw.text((24, 18), text, font=font, fill=30)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)


def draw_width(text: str, font: ImageFont.FreeTypeFont) -> float:
    return font.getlength(text) if text else 0.0


def _crop_text(spec: FieldSpec, value: Any) -> str:
    if spec.kind in (Kind.CHECKBOX, Kind.SIGNATURE):
        return "✓" if value else ""
    if spec.kind is Kind.DATE and isinstance(value, str):
        wareki = to_wareki(date.fromisoformat(value))
        return wareki
    shown = L.display_value(spec, value)
    return L.cell_text(shown)


def kyufukin_values(hh: Household, rng: random.Random) -> dict[str, Any]:
    """A clean 特別定額給付金 application of ``hh`` (transfer to the head's own account)."""
    head = hh.head
    bank, branch = rng.choice(BANKS)
    account = f"{rng.randrange(0, 10_000_000):07d}"
    if rng.random() < 0.3:
        account = "0" + account[1:]  # leading zeros must survive the round trip
    values: dict[str, Any] = {
        "applicant_no": hh.applicant_no,
        "qr_code": f"KF1|{hh.applicant_no}",
        "application_date": f"2020-05-{rng.randrange(1, 29):02d}",
        "head_name_kana": head.name_kana,
        "head_name": head.name,
        "refuse_benefit": False,
        "head_birth_date": head.birth_date,
        "phone": f"078-{rng.randrange(200, 999)}-{rng.randrange(0, 10000):04d}",
        "head_address": f"〒{hh.postal_code} {hh.address}",
        "payment_method": "transfer",
        "bank_name": bank,
        "bank_type": "bank",
        "branch_name": branch,
        "branch_type": "shiten",
        "account_type": "futsu",
        "account_number": account,
        "account_holder_kana": head.name_kana,
        "id_documents": ["drivers_license"],
        "id_document_other": None,
        "signature": True,
        "agent_name": None,
        "agent_phone": None,
        "agent_address": None,
    }
    for n in range(1, 6):
        member = hh.members[n - 1] if n <= len(hh.members) else None
        values[f"member_{n}_name"] = member.name if member else None
        values[f"member_{n}_relation"] = member.relation if member else None
        values[f"member_{n}_birth_date"] = member.birth_date if member else None
        values[f"member_{n}_refuse"] = False
    return values


def kaigo_values(member: Member, hh: Household, rng: random.Random) -> dict[str, Any]:
    """A clean 要介護認定 application by the insured person themself."""
    era = to_wareki(date.fromisoformat(member.birth_date))[:2]
    return {
        "qr_code": "FORM|kaigo_nintei|KN-2020-01",
        "application_date": f"2020-05-{rng.randrange(1, 29):02d}",
        "application_type": "new",
        "applicant_name": member.name,
        "applicant_relation": "self",
        "applicant_relation_detail": None,
        "agent_type": None,
        "agent_name": None,
        "insured_number": member.insured_number,
        "my_number": member.my_number,
        "name_kana": member.name_kana,
        "name": member.name,
        "sex": "male" if member.sex == "男" else "female",
        "birth_era": {"明治": "meiji", "大正": "taisho", "昭和": "showa"}[era],
        "birth_date": member.birth_date,
        "postal_code": hh.postal_code.replace("-", ""),
        "address": hh.address,
        "phone": f"078-{rng.randrange(200, 999)}-{rng.randrange(0, 10000):04d}",
        "previous_level": None,
        "previous_valid_from": None,
        "previous_valid_to": None,
        "doctor_clinic": "神戸中央クリニック",
        "doctor_name": "山本　一郎",
        "doctor_address": "神戸市中央区加納町6丁目5番1号",
        "doctor_phone": "078-333-4444",
        "insurer_name": None,
        "insurance_symbol_number": None,
        "specified_disease": None,
        "consent_signature": True,
    }


def _page_template(ledger: Ledger, form_id: str) -> Path:
    """A half-size copy of the form's blank page, linked as every demo document's page."""
    path = ledger.data_dir / "pages" / f"_demo_{form_id}.png"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with Image.open(form_dir(form_id) / "blank.png") as blank:
            blank.convert("L").reduce(2).save(path)
    return path


class _Builder:
    def __init__(
        self, ledger: Ledger, batch_id: str, seed: int, flag: dict[str, list[str]] | None
    ) -> None:
        self.flag = flag
        self.ledger = ledger
        self.batch_id = batch_id
        self.rng = random.Random(seed)
        self.inbox = ledger.data_dir / "demo-inbox" / batch_id
        self.inbox.mkdir(parents=True, exist_ok=True)
        self.contexts: dict[str, RuleContext] = {}

    def context(self, form: FormSpec) -> RuleContext:
        if form.form_id not in self.contexts:
            self.contexts[form.form_id] = RuleContext(
                form=form,
                receipt_date=RECEIPT,
                registry=registry(),
                prior_applications=self.ledger.prior_applications,
            )
        return self.contexts[form.form_id]

    def add(self, form_id: str, values: dict[str, Any], key: str, n: int) -> str:
        form = load_form(form_id)
        rng = self.rng
        body = f"demo scan {self.batch_id} {form_id} {n} {key}".encode()
        doc_id = hashlib.sha256(body).hexdigest()
        source = self.inbox / f"{n:05d}.png"
        source.write_bytes(body)
        self.ledger.register_document(
            doc_id=doc_id,
            batch_id=self.batch_id,
            file=f"inbox/{self.batch_id}/{n:05d}.png",
            source=source,
            size_bytes=len(body),
            page_sizes=[(2480, 3508)],
        )
        doubtful = rng.sample(DOUBTFUL[form_id], k=rng.randint(1, 3))
        if self.flag is not None:
            doubtful = list(self.flag.get(form_id, []))
        written = dict(values)  # what the resident wrote; the crops show it
        shown = set(doubtful)  # fields with a crop (a reviewer will see them)
        if self.flag is None and "account_number" in doubtful and rng.random() < 0.5:
            values["account_number"] = values["account_number"][1:]  # OCR lost a digit
        if self.flag is None and "phone" in doubtful and rng.random() < 0.4:
            values["phone"] = values["phone"][:-1]  # the last digit ran out of the box
        misread = rng.random() < 0.3 if self.flag is None else "branch_name" in doubtful
        if form_id == "kyufukin" and misread:
            # A misread branch name: no such branch, a rule warning (orange).
            values["branch_name"] = MISREAD_BRANCH.get(values["branch_name"], "本出")
            shown.add("branch_name")
        fields: dict[str, FieldValue] = {}
        for spec in form.fields:
            value = values.get(spec.id)
            source_kind = "preprinted" if spec.kind is Kind.PREPRINTED else "ocr"
            if spec.kind in (Kind.CHECKBOX, Kind.CHOICE, Kind.MULTICHOICE):
                source_kind = "omr"
            low = spec.id in doubtful
            confidence = round(rng.uniform(0.42, 0.86), 2) if low else 0.99
            crop = None
            if spec.id in shown:
                rel = f"crops/{doc_id[:2]}/{doc_id}/{spec.id}.png"
                comb = spec.length if spec.kind is Kind.DIGITS else None
                render_crop(
                    _crop_text(spec, written.get(spec.id)), self.ledger.data_dir / rel, comb=comb
                )
                crop = rel
            fields[spec.id] = FieldValue(
                field_id=spec.id,
                value=value,
                confidence=confidence if value not in (None, []) else 0.99,
                source=source_kind,  # type: ignore[arg-type]
                raw=None if value is None else L.cell_text(L.display_value(spec, value)),
                status="review" if low else ("missing" if value in (None, []) else "ok"),
                crop=crop,
            )
        doc = Document(
            id=doc_id,
            file=f"{n:05d}.png",
            batch=self.batch_id,
            pages=1,
            form_id=form_id,
            key=key,
            fields=fields,
            form_page=1,
        )
        self.ledger.save_extraction(doc)
        page = self.ledger.data_dir / "pages" / doc_id[:2] / f"{doc_id}-p1.png"
        page.parent.mkdir(parents=True, exist_ok=True)
        if not page.exists():
            os.link(_page_template(self.ledger, form_id), page)
        rel_page = str(page.relative_to(self.ledger.data_dir))
        self.ledger.save_page_classes(doc_id, {1: {"image": rel_page, "page_class": "form"}})
        result = validate(doc, self.context(form))
        if result.decision != "review":
            codes = ", ".join(f.code for f in result.findings)
            raise RuntimeError(f"demo document {n} is {result.decision}, not review ({codes})")
        self.ledger.save_validation(doc_id, "review", result.findings)
        return doc_id


def make_review_batch(
    ledger: Ledger,
    *,
    batch_id: str = "demo-review",
    kyufukin: int = 8,
    kaigo: int = 2,
    seed: int = 20200601,
    flag: dict[str, list[str]] | None = None,
) -> DemoBatch:
    """Register ``kyufukin`` + ``kaigo`` documents of the registry, all waiting for review.

    ``flag`` (form id → field ids) makes exactly those readings uncertain in
    every document of the form (for tests; a flagged 支店名 is also misread,
    which the rules warn about); by default one to three random fields are,
    some misread, some with a rule warning.
    """
    ledger.ensure_batch(batch_id, RECEIPT)
    builder = _Builder(ledger, batch_id, seed, flag)
    reg = registry()
    rng = random.Random(seed)
    households = sorted(reg.households.values(), key=lambda h: h.household_id)
    insured = sorted((m for m in reg.members() if m.insured_number), key=lambda m: m.member_no)
    out = DemoBatch(batch_id)
    n = 0
    for hh in rng.sample(households, k=kyufukin):
        n += 1
        doc_id = builder.add("kyufukin", kyufukin_values(hh, builder.rng), hh.applicant_no, n)
        out.document_ids.append(doc_id)
        out.by_form.setdefault("kyufukin", []).append(doc_id)
    for member in rng.sample(insured, k=kaigo):
        n += 1
        hh = reg.household_of(member)
        key = member.insured_number or member.my_number
        doc_id = builder.add("kaigo_nintei", kaigo_values(member, hh, builder.rng), key, n)
        out.document_ids.append(doc_id)
        out.by_form.setdefault("kaigo_nintei", []).append(doc_id)
    return out


def screenshot(out: Path, *, kyufukin: int, kaigo: int, seed: int) -> Path:
    """Page 1 of the exported workbook as LibreOffice prints it, written to ``out``."""
    import tempfile

    from review.exporter import export_review
    from review.soffice import convert, first_page_png

    with tempfile.TemporaryDirectory(prefix="shinsei-review-") as tmp:
        root = Path(tmp)
        os.environ["SHINSEI_DATA_DIR"] = str(root / "data")
        ledger = Ledger()
        made = make_review_batch(ledger, kyufukin=kyufukin, kaigo=kaigo, seed=seed)
        workbook = root / "review.xlsx"
        export_review(made.batch_id, workbook, ledger=ledger)
        pdf = convert(workbook, "pdf", root / "pdf", root / "profile")
        png = first_page_png(pdf, root / "page1.png", dpi=150)
        out.parent.mkdir(parents=True, exist_ok=True)
        with Image.open(png) as printed:
            page: Image.Image = printed.copy()
            # Keep what is printed, not the blank rest of the page.
            box = ImageOps.invert(page.convert("L")).getbbox()
            if box is not None:
                pad = 24
                page = page.crop(
                    (
                        max(0, box[0] - pad),
                        max(0, box[1] - pad),
                        min(page.width, box[2] + pad),
                        min(page.height, box[3] + pad),
                    )
                )
            page.save(out, optimize=True)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", default="demo-review")
    parser.add_argument("--kyufukin", type=int, default=8)
    parser.add_argument("--kaigo", type=int, default=2)
    parser.add_argument("--seed", type=int, default=20200601)
    parser.add_argument(
        "--screenshot",
        type=Path,
        help="build the batch in a scratch data dir, export it, render the first sheet "
        "with LibreOffice and write page 1 as this PNG (docs/review-sheet.png)",
    )
    args = parser.parse_args(argv)
    if args.screenshot:
        screenshot(args.screenshot, kyufukin=args.kyufukin, kaigo=args.kaigo, seed=args.seed)
        return
    ledger = Ledger()
    made = make_review_batch(
        ledger, batch_id=args.batch, kyufukin=args.kyufukin, kaigo=args.kaigo, seed=args.seed
    )
    in_review = ledger.document_ids(batch_id=args.batch, states=[DocState.REVIEW])
    print(f"batch {made.batch_id}: {len(made.document_ids)} documents, {len(in_review)} in review")


if __name__ == "__main__":
    main()
