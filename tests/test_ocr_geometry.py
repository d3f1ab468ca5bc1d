"""Reading, registration and OMR on the blank templates, turned, skewed and marked by hand here."""

from __future__ import annotations

import io
import math
from pathlib import Path

import cv2
import numpy as np
import pytest
import zxingcpp
from PIL import Image

from ocr.align import cut
from ocr.identify import identify_page
from ocr.io import Page, read_pages
from ocr.pipeline import extract_file
from ocr.templates import template, templates
from shinsei.residents import registry

INK = (40, 40, 150)  # a blue ball-point, RGB


def blank(form_id: str) -> np.ndarray:
    """The form's blank page (300 dpi RGB), a fresh copy to draw on."""
    return cv2.cvtColor(cv2.imread(str(_blank_path(form_id))), cv2.COLOR_BGR2RGB)


def _blank_path(form_id: str) -> Path:
    return Path(__file__).resolve().parent.parent / "forms" / form_id / "blank.png"


def scanned(
    rgb: np.ndarray, *, angle: float = 0.0, scale: float = 1.0, turn: int = 0
) -> np.ndarray:
    """What a sheet feeder makes of a page: skew about the centre, resolution, quarter turns."""
    h, w = rgb.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0) * scale
    out = cv2.warpAffine(rgb, m, (round(w * scale), round(h * scale)), borderValue=(245, 245, 245))
    return np.ascontiguousarray(np.rot90(out, k=-(turn // 90)))


def page_of(rgb: np.ndarray) -> Page:
    return Page(1, cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), "color", rgb=rgb)


def put_qr(rgb: np.ndarray, payload: str, box: list[int]) -> None:
    code = zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.QRCode)
    img = np.asarray(code.to_image(scale=8))
    side = min(box[2], box[3]) - 20
    img = cv2.resize(img, (side, side), interpolation=cv2.INTER_NEAREST)
    x, y = box[0] + (box[2] - side) // 2, box[1] + (box[3] - side) // 2
    rgb[y : y + side, x : x + side] = img[..., None]


@pytest.mark.parametrize(
    ("angle", "scale", "turn"),
    [
        (0.0, 1.0, 0),
        (2.5, 1.0, 0),
        (-1.5, 2 / 3, 0),
        (1.0, 1.0, 180),
        (-0.7, 2 / 3, 90),
        (0.5, 1.0, 270),
    ],
)
def test_kaigo_blank_is_identified_and_registered_at_any_skew_and_turn(
    angle: float, scale: float, turn: int
) -> None:
    reading = identify_page(
        page_of(scanned(blank("kaigo_nintei"), angle=angle, scale=scale, turn=turn)), templates()
    )
    assert reading.form_id == "kaigo_nintei" and reading.method == "qr"
    assert reading.alignment is not None
    assert reading.alignment.rotation == turn
    assert reading.alignment.residual < 1.0
    # the page, cut back through the alignment, lies on the template
    tpl = template("kaigo_nintei")
    page = cv2.cvtColor(
        scanned(blank("kaigo_nintei"), angle=angle, scale=scale, turn=turn), cv2.COLOR_RGB2GRAY
    )
    box = [300, 600, 1200, 800]
    (dx, dy), _ = cv2.phaseCorrelate(
        tpl.region(box).astype(np.float32), cut(page, reading.alignment, box).astype(np.float32)
    )
    assert math.hypot(dx, dy) < 1.5


def test_a_skew_that_cuts_off_marks_still_registers() -> None:
    # 5° about the centre pushes two corner marks off an A4 scan
    page = page_of(scanned(blank("kaigo_nintei"), angle=5.0))
    reading = identify_page(page, templates())
    assert reading.form_id == "kaigo_nintei"
    assert reading.alignment is not None and reading.alignment.residual < 3.0


def test_kyufukin_qr_gives_the_applicant_number_upside_down() -> None:
    household = next(iter(registry().households.values()))
    rgb = blank("kyufukin")
    put_qr(rgb, f"KF1|{household.applicant_no}", template("kyufukin").spec.qr.box)
    reading = identify_page(page_of(scanned(rgb, angle=-2.0, turn=180)), templates())
    assert reading.form_id == "kyufukin" and reading.qr_key == household.applicant_no
    assert reading.alignment is not None and reading.alignment.rotation == 180


def test_blank_and_unusable_pages() -> None:
    white = np.full((3508, 2480, 3), 240, np.uint8)
    black = np.full((3508, 2480, 3), 20, np.uint8)
    assert identify_page(page_of(white), templates()).kind == "blank"
    assert identify_page(page_of(black), templates()).kind == "unusable"


# -- OMR on marks drawn here ---------------------------------------------------------


def tick(rgb: np.ndarray, box: list[int], dx: int = 0, dy: int = 0) -> None:
    x, y, w, h = box
    x, y = x + dx, y + dy
    pts = np.array(
        [(x + w * 0.15, y + h * 0.5), (x + w * 0.42, y + h * 0.85), (x + w * 1.15, y - h * 0.2)]
    )
    cv2.polylines(rgb, [pts.astype(np.int32)], False, INK, 5, cv2.LINE_AA)


def cross(rgb: np.ndarray, box: list[int]) -> None:
    x, y, w, h = box
    cv2.line(rgb, (x + 4, y + 4), (x + w - 4, y + h - 4), INK, 5, cv2.LINE_AA)
    cv2.line(rgb, (x + w - 4, y + 4), (x + 4, y + h - 4), INK, 5, cv2.LINE_AA)


def fill(rgb: np.ndarray, box: list[int]) -> None:
    x, y, w, h = box
    cv2.rectangle(rgb, (x + 5, y + 5), (x + w - 5, y + h - 5), INK, -1)


def circle(rgb: np.ndarray, label: list[int]) -> None:
    x, y, w, h = label
    centre = (x + w // 2, y + h // 2)
    cv2.ellipse(rgb, centre, (w // 2 + h // 2, h), 0, 0, 360, INK, 5, cv2.LINE_AA)


def test_checkboxes_choices_and_ambiguous_groups(tmp_path: Path, data_dir: Path) -> None:
    spec = template("kaigo_nintei").spec
    rgb = blank("kaigo_nintei")

    def opt(field: str, value: str) -> tuple[list[int], list[int]]:
        o = next(o for o in spec.field(field).options or [] if o.value == value)
        assert o.label_box is not None
        return o.box, o.label_box

    tick(rgb, opt("application_type", "renewal")[0])
    cross(rgb, opt("applicant_relation", "family")[0])
    fill(rgb, opt("birth_era", "showa")[0])
    circle(rgb, opt("sex", "female")[1])
    tick(rgb, opt("agent_type", "kyotaku_shien")[0], dx=22, dy=-20)  # partly outside
    tick(rgb, opt("previous_level", "care_1")[0])
    tick(rgb, opt("previous_level", "care_2")[0])
    path = tmp_path / "marked.png"
    Image.fromarray(scanned(rgb, angle=1.2)).save(path)
    doc = extract_file(path, engine="null")
    f = doc.fields
    assert f["application_type"].value == "renewal" and f["application_type"].status == "ok"
    assert f["applicant_relation"].value == "family"
    assert f["birth_era"].value == "showa"
    assert f["sex"].value == "female"
    assert f["agent_type"].value == "kyotaku_shien" and "outside_box" in f["agent_type"].flags
    assert f["previous_level"].value == ["care_1", "care_2"]
    assert "ambiguous" in f["previous_level"].flags and f["previous_level"].status == "review"
    assert f["consent_signature"].value is False and f["consent_signature"].status == "missing"
    assert f["insured_number"].value is None and f["insured_number"].status == "missing"


# -- reading files ---------------------------------------------------------------------


def test_pdf_pages_are_taken_out_as_stored(tmp_path: Path) -> None:
    from samples.writers import pdf_bytes

    gray = cv2.imread(str(_blank_path("kaigo_nintei")), cv2.IMREAD_GRAYSCALE)
    bilevel = np.where(gray > 160, 255, 0).astype(np.uint8)
    color = cv2.cvtColor(gray, cv2.COLOR_GRAY2RGB)
    path = tmp_path / "scan.pdf"
    path.write_bytes(pdf_bytes([color, bilevel, gray], [300, 300, 200], [90, 90, 90]))
    pages = read_pages(path)
    assert [p.source for p in pages] == ["embedded"] * 3
    assert [p.mode for p in pages] == ["color", "bilevel", "gray"]
    assert np.array_equal(pages[1].gray, bilevel)  # 1-bit Flate decoded exactly
    assert pages[2].gray.shape == gray.shape and abs(float(pages[2].dpi or 0) - 200) < 1
    assert pages[0].color() is not None  # colour decoded on demand


def test_multipage_tiff(tmp_path: Path) -> None:
    gray = cv2.imread(str(_blank_path("kyufukin")), cv2.IMREAD_GRAYSCALE)
    frames = [
        Image.fromarray(gray),
        Image.fromarray(np.where(gray > 200, 255, 0).astype(np.uint8)).convert("1"),
    ]
    buf = io.BytesIO()
    frames[0].save(buf, format="TIFF", save_all=True, append_images=frames[1:])
    path = tmp_path / "scan.tif"
    path.write_bytes(buf.getvalue())
    pages = read_pages(path)
    assert [p.mode for p in pages] == ["gray", "bilevel"]
    assert all(p.gray.shape == gray.shape for p in pages)
