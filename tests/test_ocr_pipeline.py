"""Extraction of single envelopes: bad inputs, orientation, no QR, unknown documents, marks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from ocr.identify import identify_page
from ocr.io import read_pages
from ocr.pipeline import Options, extract_file, extract_files, guided_chunks
from ocr.templates import templates
from shinsei.model import DocState
from tests.bad_inputs import encrypted_pdf, huge_png, truncated_pdf, zero_page_pdf

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "samples" / "batch-demo"
BLANK = ROOT / "forms" / "kaigo_nintei" / "blank.pdf"


def demo_file(name: str) -> tuple[Path, dict[str, Any]]:
    path = DEMO / name
    if not path.is_file():
        pytest.skip("the demo batch (samples/batch-demo) is not there")
    for line in (DEMO / "truth.jsonl").read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        if rec["file"] == name:
            return path, rec
    raise AssertionError(f"{name} has no truth")


@pytest.fixture
def bad_inbox(tmp_path: Path) -> list[Path]:
    box = tmp_path / "inbox"
    box.mkdir()
    (box / "empty.pdf").write_bytes(b"")
    files = [
        box / "empty.pdf",
        truncated_pdf(box / "truncated.pdf", BLANK),
        encrypted_pdf(box / "locked.pdf"),
        zero_page_pdf(box / "nopages.pdf"),
        huge_png(box / "bomb.png"),
    ]
    (box / "letter.jpg").write_text("this is not a picture")
    files.append(box / "letter.jpg")
    return files


def test_every_bad_input_is_a_per_document_error_and_the_batch_goes_on(
    bad_inbox: list[Path], data_dir: Path
) -> None:
    good, _ = demo_file("scan_0020.pdf")
    files = [*bad_inbox[:3], good, *bad_inbox[3:]]
    docs = list(extract_files(files, options=Options(engine="null")))
    assert [Path(d.file).name for d in docs] == [f.name for f in files]  # input order
    reasons = {Path(d.file).name: d.error for d in docs}
    assert reasons["scan_0020.pdf"] is None
    assert docs[3].form_id == "kaigo_nintei"
    expected = {
        "empty.pdf": "empty",
        "truncated.pdf": "damaged or truncated",
        "locked.pdf": "encrypted",
        "nopages.pdf": "no pages",
        "bomb.png": "over the limit",
        "letter.jpg": "not a scan",
    }
    for name, words in expected.items():
        reason = reasons[name]
        assert reason is not None and words in reason and name in reason, (name, reason)
    for doc in docs:
        record = doc.result_record(with_validation=False)
        if doc.error:
            assert record["form_id"] is None and record["error"] == doc.error
            assert doc.state is DocState.FAILED


def test_upside_down_and_sideways_pages_are_turned_by_the_qr_code() -> None:
    forms = templates()
    for name, turn in (("scan_0004.pdf", 180), ("scan_0027.jpg", 90)):
        path, truth = demo_file(name)
        readings = [identify_page(p, forms) for p in read_pages(path)]
        form = next(r for r in readings if r.kind == "form")
        assert form.form_id == truth["form_id"]
        assert form.alignment is not None and form.alignment.rotation == turn
        assert form.alignment.residual < 1.0


def test_a_page_without_a_readable_qr_is_identified_by_layout_and_keyed_by_its_comb(
    data_dir: Path,
) -> None:
    path, truth = demo_file("scan_0005.pdf")  # QR stained
    page = read_pages(path)[0]
    reading = identify_page(page, templates())
    assert reading.form_id == "kyufukin" and reading.method == "layout"
    assert reading.qr_text is None
    doc = extract_file(path)
    assert doc.key == truth["key"]  # read from the printed 申請者番号, Luhn-checked
    assert doc.fields["head_name"].value == truth["fields"]["head_name"]["value"]
    assert doc.fields["head_name"].source == "preprinted"
    # the printed number found the household: the damaged code needs no person
    qr = doc.fields["qr_code"]
    assert qr.value is None and qr.status == "missing" and qr.flags == ["unreadable"]


def test_documents_that_are_no_form_are_unknown(data_dir: Path) -> None:
    for name in ("scan_0029.pdf", "scan_0030.jpg"):
        path, _ = demo_file(name)
        doc = extract_file(path, engine="null")
        assert doc.form_id is None and doc.error is None
        assert doc.state is DocState.UNKNOWN and doc.fields == {}
        assert doc.result_record(with_validation=False)["form_id"] is None


def test_two_marks_in_an_exactly_one_group_are_ambiguous_not_guessed(data_dir: Path) -> None:
    path, truth = demo_file("scan_0009.pdf")  # both payment methods ticked
    doc = extract_file(path)
    fv = doc.fields["payment_method"]
    assert fv.value == ["transfer", "copy_attached"] == truth["fields"]["payment_method"]["value"]
    assert "ambiguous" in fv.flags and fv.status == "review"


def test_a_blacked_out_field_is_flagged_for_review(data_dir: Path) -> None:
    path, truth = demo_file("scan_0014.pdf")
    doc = extract_file(path)
    flagged = [fid for fid, fv in doc.fields.items() if "blacked_out" in fv.flags]
    expected = [f for f, fl in truth["generator"]["flags"].items() if "blacked_out" in fl]
    assert flagged == expected
    for fid in flagged:
        assert doc.fields[fid].value is None and doc.fields[fid].status == "review"


def test_overlays_and_crops_are_written_on_request(tmp_path: Path, data_dir: Path) -> None:
    path, _ = demo_file("scan_0020.pdf")
    copy = tmp_path / "in.pdf"
    shutil.copy(path, copy)
    doc = extract_file(
        copy,
        crops_dir=data_dir / "crops",
        keep_page_image=data_dir / "pages",
        overlays_dir=tmp_path / "overlays",
    )
    assert (tmp_path / "overlays" / "in.jpg").is_file()
    assert (data_dir / "pages" / f"{doc.id[:16]}.jpg").is_file()
    crop = doc.fields["name"].crop
    assert crop is not None and (data_dir / crop).is_file() and not Path(crop).is_absolute()


@pytest.mark.parametrize(
    ("files", "chunk", "workers"), [(40, 4, 2), (30, 4, 2), (3, 4, 2), (9, 8, 4)]
)
def test_a_pools_groups_shrink_towards_the_end_and_keep_every_file_once(
    files: int, chunk: int, workers: int
) -> None:
    names = [f"{i}.pdf" for i in range(files)]
    groups = guided_chunks(names, chunk, workers)
    assert [f for g in groups for f in g] == names
    sizes = [len(g) for g in groups]
    assert max(sizes) <= chunk and sizes == sorted(sizes, reverse=True)
    assert sizes[-min(workers, len(sizes)) :] == [1] * min(workers, len(sizes))


def test_jpeg_pages_decode_as_opencv_would_and_what_the_fast_decoder_refuses_goes_to_it() -> None:
    import cv2
    import numpy as np
    import simplejpeg

    from ocr.io import decode_jpeg

    rng = np.random.default_rng(3)
    rgb = cv2.GaussianBlur(rng.integers(0, 256, (240, 320, 3), dtype=np.uint8), (5, 5), 0)
    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert ok
    data = encoded.tobytes()
    buf = np.frombuffer(data, np.uint8)

    gray, color = decode_jpeg(data), decode_jpeg(data, color=True)

    assert gray is not None and color is not None
    assert np.array_equal(gray, cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE))
    expected = cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    assert np.array_equal(color, expected)
    # A stream cut short: the fast decoder refuses it, OpenCV decides.
    cut = data[: len(data) * 2 // 3]
    with pytest.raises(ValueError):
        simplejpeg.decode_jpeg(cut, colorspace="GRAY")
    decided = cv2.imdecode(np.frombuffer(cut, np.uint8), cv2.IMREAD_GRAYSCALE)
    if decided is None:
        assert decode_jpeg(cut) is None
    else:
        assert np.array_equal(decode_jpeg(cut), decided)
    assert decode_jpeg(b"\xff\xd8 not a JPEG") is None
