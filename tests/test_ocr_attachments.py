"""Enclosure pages: sorted by layout, and by their title lines where the layout cannot say."""

from __future__ import annotations

import json
import random
from pathlib import Path

import cv2
import numpy as np
import pytest

from ocr.attachments import TitleCheck, _title, classify_page, sort_page
from ocr.identify import PageReading
from ocr.io import Page
from ocr.pipeline import extract_files
from samples import pages
from samples.content._common import pick_branch
from samples.generator import Options as GenOptions
from samples.generator import build_envelope, generate_batch, plan_batch
from shinsei.residents import registry

ADDRESS = "神戸市中央区加納町6丁目5-1"


def _page(image: np.ndarray) -> tuple[Page, PageReading]:
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return Page(2, gray, "gray", 300.0), PageReading(2, "other")


@pytest.mark.parametrize(
    ("texts", "otherwise", "kind"),
    [
        (["三井住友銀行"], "id_copy", "passbook_copy"),
        (["国民健康保険被保険者証", "灘信用金庫"], "other", "passbook_copy"),
        (["国民健康保険被保険者証"], "id_copy", "id_copy"),
        ([], "other", "other"),
    ],
)
def test_title_lines_with_bank_words_make_a_passbook_copy(
    texts: list[str], otherwise: str, kind: str
) -> None:
    check = TitleCheck([], otherwise)  # type: ignore[arg-type]
    assert check.settle(texts) == kind


def test_the_title_line_is_the_first_line_of_words_with_blobs_rules_and_specks_left_out() -> None:
    block = np.full((400, 600), 255, np.uint8)
    block[5:7, 40:42] = 0  # a speck above everything
    block[10:30, 20:24] = 0  # a rule's piece, higher than wide: no line of words
    block[40:390, 10:80] = 0  # a photo: a big blob, whatever its rows
    for x in range(100, 220, 24):  # the first line: five characters ...
        block[52:68, x : x + 16] = 0
    block[54:66, 500:560] = 0  # ... and, far to its right, the facing page's heading
    for x in range(100, 300, 24):  # a second line below
        block[90:106, x : x + 16] = 0
    assert _title(block) == (100, 52, 212 - 100, 68 - 52)
    # a character whose strokes reach into the row above joins that row's line
    block[46:53, 150:154] = 0
    assert _title(block) == (100, 46, 212 - 100, 68 - 46)
    assert _title(np.full((50, 80), 255, np.uint8)) is None


def test_a_card_without_photo_is_decided_by_its_title_read_by_the_model() -> None:
    member = registry().members()[0]
    image = pages.id_copy(member, ADDRESS, "health", random.Random(3))
    page, reading = _page(image)
    check = sort_page(page, reading)
    assert isinstance(check, TitleCheck)
    assert check.otherwise == "id_copy"
    assert check.crops  # its title line (and, for a copy as tall as a passbook, turned ones)
    assert classify_page(page, reading) == "id_copy"


def test_a_passbook_copy_fed_sideways_is_found_by_its_bank_name() -> None:
    image = pages.passbook_copy(
        pick_branch(random.Random(5)), "1234567", "コウベ　タロウ", "futsu", random.Random(5)
    )
    page, reading = _page(cv2.rotate(image, cv2.ROTATE_90_CLOCKWISE))
    check = sort_page(page, reading)
    assert isinstance(check, TitleCheck)
    assert check.otherwise != "passbook_copy"  # the layout alone would not say so
    assert classify_page(page, reading) == "passbook_copy"


@pytest.mark.parametrize("seed", [4, 6])
def test_a_card_with_a_photo_is_an_id_copy_whatever_its_lines_say(seed: int) -> None:
    member = registry().members()[0]
    image = pages.id_copy(member, ADDRESS, "drivers_license", random.Random(seed))
    page, reading = _page(image)
    kind = sort_page(page, reading)
    # a front-and-back copy is as tall as a passbook fed sideways: its turned lines are read
    assert kind == "id_copy" or (isinstance(kind, TitleCheck) and kind.otherwise == "id_copy")
    assert classify_page(page, reading) == "id_copy"


def test_scanned_envelopes_have_the_enclosures_their_truth_says(tmp_path: Path) -> None:
    # scan_0002 of this batch is a passbook copy as low as a short letter, scanned in
    # grey: its bank name must be found as the block's first line (a passbook's outline
    # broken into pieces by the scan once made it "other", and a clean application lost
    # its passbook copy)
    generate_batch(
        tmp_path,
        plan_batch(
            GenOptions(count=3, seed=11011, style="handwriting", defect_rate=0.45, unknown_rate=0)
        ),
        workers=1,
    )
    truth = [json.loads(line) for line in (tmp_path / "truth.jsonl").read_text().splitlines()]
    docs = list(extract_files([tmp_path / t["file"] for t in truth]))
    assert [sorted(d.attachments) for d in docs] == [sorted(t["attachments"]) for t in truth]
    assert "passbook_copy" in docs[1].attachments


def test_a_card_on_a_sheet_the_scanner_lit_unevenly_is_still_card_sized(tmp_path: Path) -> None:
    # printed_0092 of seed 10400: a health insurance card, front and back, on a grey
    # scan darker at the top; the shading once joined the card's block, which was then
    # too large for a card, and a clean application lost its ID copy
    plan = plan_batch(GenOptions(count=92, seed=10400, style="printed", prefix="printed"))[91]
    envelope = build_envelope(plan)
    path = tmp_path / envelope.file_name
    path.write_bytes(envelope.data)
    (doc,) = extract_files([path])
    assert doc.attachments == envelope.truth["attachments"] == ["id_copy"]


def test_a_passbook_copy_whose_fold_is_broken_by_the_scan_is_found(tmp_path: Path) -> None:
    # scan_0063 of seed 10600 (printed): an open passbook whose fold, scanned faint,
    # came out as short pieces of rule at the top of the block; one was taken for the
    # title line, nothing bank-like was read, and a clean application lost its passbook
    options = GenOptions(count=63, seed=10600, style="printed", defect_rate=0.45, unknown_rate=0)
    envelope = build_envelope(plan_batch(options)[62])
    path = tmp_path / envelope.file_name
    path.write_bytes(envelope.data)
    (doc,) = extract_files([path])
    assert sorted(doc.attachments) == sorted(envelope.truth["attachments"])
    assert "passbook_copy" in doc.attachments


def test_specks_of_a_black_and_white_scan_are_no_title_line(tmp_path: Path) -> None:
    # scan_0055 of seed 11700 (printed): a passbook copy upside down on a black-and-white
    # scan; a speck of noise above the block was taken for its first line
    options = GenOptions(count=55, seed=11700, style="printed", defect_rate=0.45, unknown_rate=0)
    envelope = build_envelope(plan_batch(options)[54])
    path = tmp_path / envelope.file_name
    path.write_bytes(envelope.data)
    (doc,) = extract_files([path])
    assert sorted(doc.attachments) == sorted(envelope.truth["attachments"])
    assert "passbook_copy" in doc.attachments


def test_a_card_copied_front_and_back_and_fed_sideways_is_an_id_copy(tmp_path: Path) -> None:
    # printed_0183 of seed 11900: a health insurance card, front and back side by side
    # on a black-and-white scan, as wide as an open passbook; its title is no bank's,
    # and it was sorted "other" -- a clean kyufukin application without its ID copy
    options = GenOptions(count=183, seed=11900, style="printed", prefix="printed")
    envelope = build_envelope(plan_batch(options)[182])
    path = tmp_path / envelope.file_name
    path.write_bytes(envelope.data)
    (doc,) = extract_files([path])
    assert doc.attachments == envelope.truth["attachments"] == ["id_copy"]
