"""The sample generator: determinism, truth against the registry, readable files."""

from __future__ import annotations

import hashlib
import io
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zxingcpp
from PIL import Image

from forms import Kind, load_form
from samples import _fonts
from samples.application import wareki_text
from samples.generator import EnvelopePlan, Options, build_envelope, generate_batch, plan_batch
from samples.truth import read_truth
from shinsei.residents import registry


@pytest.fixture(autouse=True)
def _private_data(data_dir: Path) -> None:
    """Every test here gets its own SHINSEI_DATA_DIR (nothing touches ./data)."""


def _small_options(seed: int) -> Options:
    return Options(
        count=5,
        seed=seed,
        defect_rate=0.5,
        non_defect_rate=0.5,
        unknown_rate=0.15,
        dpis=(200,),
    )


def test_same_seed_gives_the_same_bytes(tmp_path: Path) -> None:
    plans = plan_batch(_small_options(11))
    first = generate_batch(tmp_path / "a", plans, workers=1)
    # planned again from scratch, built in two processes: still the same bytes
    second = generate_batch(tmp_path / "b", plan_batch(_small_options(11)), workers=2)
    assert first.files == second.files
    assert first.truth_path.read_bytes() == second.truth_path.read_bytes()
    for name in first.files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_another_seed_gives_another_batch(tmp_path: Path) -> None:
    a = plan_batch(_small_options(1))
    b = plan_batch(_small_options(2))
    assert [p.subject for p in a] != [p.subject for p in b]


def test_truth_names_each_file_by_its_hash(tmp_path: Path) -> None:
    report = generate_batch(tmp_path, plan_batch(_small_options(3)))
    records = read_truth(report.truth_path)
    assert [r["file"] for r in records] == report.files
    for r in records:
        data = (tmp_path / r["file"]).read_bytes()
        assert r["document_id"] == hashlib.sha256(data).hexdigest()
        if r["form_id"] is None:
            assert r["decision"] == "unknown" and r["fields"] == {} and r["key"] is None
            continue
        spec = load_form(r["form_id"])
        assert list(r["fields"]) == spec.field_ids  # every field, in form order
        for fid, cell in r["fields"].items():
            blank = cell["value"] is None or (
                spec.field(fid).kind is Kind.SIGNATURE and cell["value"] is False
            )
            assert cell["status"] == ("missing" if blank else "ok"), fid


def _kyufukin_plan(index: int, **changes: Any) -> EnvelopePlan:
    base = plan_batch(
        Options(
            count=1,
            seed=index,
            forms=("kyufukin",),
            defect_rate=0.0,
            unknown_rate=0.0,
            qr_damage_rate=0.0,
        )
    )[0]
    return replace(base, **changes)


def _pages(data: bytes, fmt: str) -> list[np.ndarray]:
    if fmt == "pdf":
        from pdf2image import convert_from_bytes

        return [np.asarray(p.convert("L")) for p in convert_from_bytes(data, dpi=200)]
    with Image.open(io.BytesIO(data)) as im:
        frames = []
        for i in range(getattr(im, "n_frames", 1)):
            im.seek(i)
            frames.append(np.asarray(im.convert("L")))
        return frames


@pytest.mark.parametrize(
    ("fmt", "mode"), [("pdf", "color"), ("tiff", "bilevel"), ("png", "gray"), ("jpeg", "color")]
)
def test_preprinted_values_are_the_registry_and_the_qr_decodes(fmt: str, mode: str) -> None:
    plan = _kyufukin_plan(7, fmt=fmt, mode=mode, dpi=300, upside_down=False, shuffle=False)
    env = build_envelope(plan)
    fields = env.truth["fields"]
    hh = registry().households[plan.subject or ""]
    head = hh.head
    assert env.truth["key"] == hh.applicant_no
    assert fields["applicant_no"]["value"] == hh.applicant_no
    assert fields["qr_code"]["value"] == f"KF1|{hh.applicant_no}"
    assert fields["head_name"]["value"] == head.name
    assert fields["head_name_kana"]["value"] == head.name_kana
    assert fields["head_birth_date"]["value"] == head.birth_date
    assert fields["head_address"]["value"] == f"〒{hh.postal_code} {hh.address}"
    for i in range(1, 6):
        row = [fields[f"member_{i}_{p}"]["value"] for p in ("name", "relation", "birth_date")]
        if i <= len(hh.members):
            m = hh.members[i - 1]
            assert row == [m.name, m.relation, m.birth_date]
        else:
            assert row == [None, None, None]
    # the QR code on the scanned form page carries the same number
    pages = _pages(env.data, fmt)
    assert len(pages) == env.truth["pages"]
    form_page = [p["kind"] for p in env.truth["generator"]["pages"]].index("form")
    texts = [r.text for r in zxingcpp.read_barcodes(pages[form_page])]
    assert f"KF1|{hh.applicant_no}" in texts


def test_a_damaged_qr_does_not_decode_and_reads_as_missing() -> None:
    plan = _kyufukin_plan(8, fmt="png", mode="gray", dpi=300, qr_damaged=True)
    env = build_envelope(plan)
    assert env.truth["fields"]["qr_code"] == {"value": None, "status": "missing"}
    assert env.truth["fields"]["applicant_no"]["status"] == "ok"
    assert env.truth["decision"] == "accept"
    assert zxingcpp.read_barcodes(_pages(env.data, "png")[0]) == []


def test_a_bilevel_scan_of_the_dropout_form_keeps_only_black() -> None:
    plan = _kyufukin_plan(9, fmt="png", mode="bilevel", dpi=200)
    page = _pages(build_envelope(plan).data, "png")[0]
    assert set(np.unique(page)) <= {0, 255}
    # the red title band and ruled lines are gone: the title row is blank paper
    spec = load_form("kyufukin")
    x, y, w, h = spec.field("head_name_kana").box or [0, 0, 0, 0]
    label = page[int(y * 2 / 3) : int((y + h) * 2 / 3), 0 : int(x * 2 / 3) - 10]  # printed label
    assert (label == 0).mean() < 0.01


def test_city_print_of_birth_dates_is_wareki() -> None:
    assert wareki_text(date(1933, 2, 5)) == "昭和8年2月5日"
    assert wareki_text(date(1989, 5, 3)) == "平成元年5月3日"
    assert wareki_text(date(2019, 5, 1)) == "令和元年5月1日"


def test_every_registry_character_can_be_drawn_in_every_handwriting_face() -> None:
    reg = registry()
    text = "".join(m.name + m.name_kana for m in reg.members()) + "".join(
        h.address for h in reg.households.values()
    )
    chars = "".join(sorted(set(text)))
    for face in _fonts.HANDWRITING_FONTS:
        assert _fonts.missing_glyphs(face, chars) == []
    # a face without a character falls back to one that has it instead of drawing nothing:
    # a hand to another hand, a typeface to another typeface
    assert not _fonts.has_glyph("seto", "𠮷") and not _fonts.has_glyph("gothic", "𠮷")
    assert _fonts.face_for("seto", "𠮷") in _fonts.HANDWRITING_FONTS
    assert _fonts.face_for("gothic", "𠮷") in _fonts.PRINTED_FONTS
    assert _fonts.glyph("seto", "𠮷").mask.max() == 255
    assert _fonts.glyph("gothic", "𠮷").mask.max() == 255


def test_an_envelope_with_enclosures_planned_as_a_one_page_format_is_scanned_to_pdf() -> None:
    from samples.generator import Options, build_envelope, plan_batch

    # found by the validation benchmark: a 介護 application whose content needs a copy
    options = Options(count=200, seed=9701, style="handwriting", defect_rate=0.45, unknown_rate=0.0)
    plan = next(p for p in plan_batch(options) if p.name == "scan_0129")
    assert plan.fmt == "jpeg"
    envelope = build_envelope(plan)
    assert envelope.file_name == "scan_0129.pdf" and envelope.truth["file"] == "scan_0129.pdf"
    assert envelope.truth["pages"] == 2 and envelope.data.startswith(b"%PDF")


@pytest.mark.parametrize("name", ["scan_0038", "scan_0065", "scan_0120"])
def test_passbook_copies_found_by_the_validation_benchmark_are_classified(
    name: str, tmp_path: Path
) -> None:
    # an open passbook whose facing page's headings share its title line (0038),
    # one fed upside down (0065), one fed sideways (0120)
    from ocr.pipeline import extract_file
    from samples.generator import Options, build_envelope, plan_batch

    options = Options(count=200, seed=9701, style="handwriting", defect_rate=0.45, unknown_rate=0.0)
    envelope = build_envelope(next(p for p in plan_batch(options) if p.name == name))
    path = tmp_path / envelope.file_name
    path.write_bytes(envelope.data)
    assert sorted(extract_file(path).attachments) == ["id_copy", "passbook_copy"]
