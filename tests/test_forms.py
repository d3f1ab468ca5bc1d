"""The two form definitions: loading, agreement with the dictionaries, geometry on the blanks."""

from __future__ import annotations

import shutil
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from PIL import Image
from typer.testing import CliRunner

from forms.check import check_forms
from forms.cli import app as forms_app
from forms.loader import FORMS_DIR, FormDefinitionError, load_form, parse_form
from forms.schema import Box, FieldSpec, FormSpec, Kind

FORM_IDS = ["kyufukin", "kaigo_nintei"]
EXPECTED_FIELDS = {"kyufukin": 43, "kaigo_nintei": 29}


def _dictionary(form_id: str) -> dict[str, Any]:
    data = yaml.safe_load((FORMS_DIR / form_id / "dictionary.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@cache
def _printed(form_id: str) -> np.ndarray:
    """True where the blank has ink: black or the light-red drop-out colour, not the pale fills."""
    rgb = np.asarray(Image.open(FORMS_DIR / form_id / "blank.png").convert("RGB"), dtype=np.int16)
    return (255 - rgb.min(axis=2)) > 80


def _comb_runs(f: FieldSpec) -> list[list[Box]]:
    runs = [f.cells] if f.cells else []
    runs += [p.cells for p in f.parts or [] if p.cells]
    return runs


def _squares(spec: FormSpec) -> list[tuple[str, Box]]:
    out: list[tuple[str, Box]] = []
    for f in spec.fields:
        if f.kind is Kind.CHECKBOX:
            assert f.box is not None
            out.append((f.id, f.box))
        out += [(f"{f.id}={o.value}", o.box) for o in f.options or []]
    return out


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_form_loads_with_every_dictionary_field(form_id: str) -> None:
    spec = load_form(form_id)
    dictionary = _dictionary(form_id)
    entries = {d["id"]: d for d in dictionary["fields"]}
    assert len(spec.fields) == EXPECTED_FIELDS[form_id] == dictionary["field_count"]
    assert spec.field_ids == [d["id"] for d in dictionary["fields"]]
    for f in spec.fields:
        d = entries[f.id]
        assert f.kind.value == d["kind"], f.id
        assert f.label_ja == d["label_ja"], f.id
        assert f.required == d["required"], f.id
        assert f.option_values() == [o["value"] for o in d.get("options") or []], f.id
        assert [o.label_ja for o in f.options or []] == [
            o["label_ja"] for o in d.get("options") or []
        ], f.id
        assert f.allowed_values == d.get("allowed_values"), f.id
        if "length" in d:
            cells = f.cells or [c for p in f.parts or [] for c in p.cells or []]
            assert len(cells) == d["length"], f.id
    assert spec.size == [2480, 3508]


def test_top_level_of_each_form() -> None:
    kf, kn = load_form("kyufukin"), load_form("kaigo_nintei")
    assert kf.dropout_ink_rgb == [240, 150, 120] and kn.dropout_ink_rgb is None
    assert kf.key_fields == ["applicant_no"]
    assert kn.key_fields == ["insured_number", "my_number"]
    assert kf.application_window == {"from": "2020-05-01", "to": "2020-08-31"}
    import re

    match = re.match(kf.qr.pattern, "KF1|1234567890")
    assert match is not None and match.group("key") == "1234567890"
    assert re.match(kn.qr.pattern, "FORM|kaigo_nintei|KN-2020-01")
    assert kf.field("application_date").era == "reiwa"
    assert kn.field("birth_date").era_field == "birth_era"
    phone = kf.field("phone")
    assert [p.name for p in phone.parts or []] == ["area", "exchange", "number"]
    assert phone.joiner == "-"
    postal = kn.field("postal_code")
    assert [len(p.cells or []) for p in postal.parts or []] == [3, 4] and postal.joiner == ""


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_registration_marks_sit_on_the_black_squares(form_id: str) -> None:
    spec = load_form(form_id)
    gray = np.asarray(Image.open(FORMS_DIR / form_id / "blank.png").convert("L"))
    for name, (x, y, w, h) in spec.registration_marks.model_dump().items():
        assert 55 <= w <= 63 and 55 <= h <= 63, name
        assert (gray[y : y + h, x : x + w] < 60).mean() > 0.98, name
        ring = np.concatenate(
            [gray[y - 2, x : x + w], gray[y + h + 1, x : x + w], gray[y : y + h, x - 2]]
        )
        assert (ring > 200).all(), name  # the box ends where the square ends


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_comb_cells_run_left_to_right_without_overlap(form_id: str) -> None:
    spec = load_form(form_id)
    runs = [(f.id, run) for f in spec.fields for run in _comb_runs(f)]
    assert len(runs) >= 4
    for fid, cells in runs:
        widths = [c[2] for c in cells]
        heights = [c[3] for c in cells]
        assert max(widths) - min(widths) <= 0.1 * max(widths), fid
        assert max(heights) - min(heights) <= 2, fid
        for left, right in zip(cells, cells[1:], strict=False):
            assert right[0] >= left[0] + left[2], f"{fid}: {right} overlaps {left}"
            assert right[0] - (left[0] + left[2]) <= 8, f"{fid}: gap after {left}"
            assert abs(right[1] - left[1]) <= 2, fid


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_comb_cells_are_the_blank_inside_printed_lines(form_id: str) -> None:
    spec = load_form(form_id)
    ink = _printed(form_id)
    for f in spec.fields:
        for cells in _comb_runs(f):
            for x, y, w, h in cells:
                assert ink[y : y + h, x : x + w].mean() < 0.01, (f.id, [x, y, w, h])
                assert ink[y - 1, x : x + w].mean() > 0.9, (f.id, "top line")
                assert ink[y + h, x : x + w].mean() > 0.9, (f.id, "bottom line")
                assert ink[y : y + h, x - 1].mean() > 0.9, (f.id, "left line")
                assert ink[y : y + h, x + w].mean() > 0.9, (f.id, "right line")


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_checkbox_boxes_sit_on_printed_squares(form_id: str) -> None:
    spec = load_form(form_id)
    ink = _printed(form_id)
    squares = _squares(spec)
    assert len(squares) >= 20
    for name, (x, y, w, h) in squares:
        assert 30 <= w <= 70 and abs(w - h) <= 2, name
        inside = ink[y + 5 : y + h - 5, x + 5 : x + w - 5]
        assert inside.mean() < 0.02, f"{name}: not empty inside"
        border = np.concatenate(
            [
                ink[y, x : x + w],
                ink[y + h - 1, x : x + w],
                ink[y : y + h, x],
                ink[y : y + h, x + w - 1],
            ]
        )
        assert border.mean() > 0.9, f"{name}: no printed border"


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_option_labels_hold_printed_text_right_of_their_box(form_id: str) -> None:
    spec = load_form(form_id)
    ink = _printed(form_id)
    for f in spec.fields:
        for o in f.options or []:
            assert o.label_box is not None, (f.id, o.value)
            lx, ly, lw, lh = o.label_box
            assert lx >= o.box[0] + o.box[2], (f.id, o.value)
            assert ink[ly : ly + lh, lx : lx + lw].mean() > 0.05, (f.id, o.value)


# --- broken definitions --------------------------------------------------------------------


def _broken(tmp_path: Path, change: Any) -> Path:
    """A copy of kyufukin's definition with ``change(raw)`` applied, in its own folder."""
    folder = tmp_path / "kyufukin"
    folder.mkdir()
    shutil.copy(FORMS_DIR / "kyufukin" / "blank.png", folder / "blank.png")
    shutil.copy(FORMS_DIR / "kyufukin" / "dictionary.yaml", folder / "dictionary.yaml")
    raw = yaml.safe_load((FORMS_DIR / "kyufukin" / "form.yaml").read_text(encoding="utf-8"))
    change(raw)
    path = folder / "form.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _field(raw: dict[str, Any], field_id: str) -> dict[str, Any]:
    return next(f for f in raw["fields"] if f["id"] == field_id)


def _missing_box(raw: dict[str, Any]) -> None:
    del _field(raw, "signature")["box"]


def _outside(raw: dict[str, Any]) -> None:
    _field(raw, "agent_address")["box"] = [1000, 3054, 1888, 81]


def _duplicate(raw: dict[str, Any]) -> None:
    raw["fields"].append(dict(_field(raw, "bank_name")))


def _unknown_kind(raw: dict[str, Any]) -> None:
    _field(raw, "agent_phone")["kind"] = "barcode"


def _no_options(raw: dict[str, Any]) -> None:
    del _field(raw, "payment_method")["options"]


@pytest.mark.parametrize(
    ("change", "field_id", "problem"),
    [
        (_missing_box, "signature", "needs 'box'"),
        (_outside, "agent_address", "not inside the page"),
        (_duplicate, "bank_name", "defined twice"),
        (_unknown_kind, "agent_phone", "kind"),
        (_no_options, "payment_method", "needs 'options'"),
    ],
)
def test_broken_definition_names_file_field_and_problem(
    tmp_path: Path, change: Any, field_id: str, problem: str
) -> None:
    path = _broken(tmp_path, change)
    with pytest.raises(FormDefinitionError) as info:
        parse_form(path)
    message = str(info.value)
    assert str(path) in message
    assert field_id in message
    assert problem in message


def test_copy_of_a_good_definition_parses(tmp_path: Path) -> None:
    # the broken variants above fail because of their change, not because of the copying
    spec = parse_form(_broken(tmp_path, lambda raw: None))
    assert len(spec.fields) == 43


def test_check_reports_disagreement_with_the_dictionary(tmp_path: Path) -> None:
    def change(raw: dict[str, Any]) -> None:
        _field(raw, "account_number")["kind"] = "text"
        _field(raw, "bank_type")["options"][0]["value"] = "ginko"
        raw["fields"] = [f for f in raw["fields"] if f["id"] != "agent_address"]
        raw["rules"] = []  # rules may name agent_address; this test is about the dictionary

    _broken(tmp_path, change)
    (result,) = check_forms(["kyufukin"], None, forms_dir=tmp_path)
    assert not result.ok
    assert result.fields == 42 and result.dictionary_fields == 43
    text = "\n".join(result.problems)
    assert "'account_number': kind is 'text'" in text
    assert "'bank_type': options" in text and "ginko" in text
    assert "'agent_address' of the dictionary is not defined" in text


# --- shinsei forms check ---------------------------------------------------------------------


def test_forms_check_writes_an_overlay_per_form(tmp_path: Path) -> None:
    out = tmp_path / "overlays"
    result = CliRunner().invoke(forms_app, ["--out", str(out)], prog_name="check")
    # a single-command typer app runs that command directly
    assert result.exit_code == 0, result.output
    assert "kyufukin: 43 fields (dictionary: 43): ok" in result.output
    assert "kaigo_nintei: 29 fields (dictionary: 29): ok" in result.output
    for form_id in FORM_IDS:
        overlay = Image.open(out / f"{form_id}.png").convert("RGB")
        blank = Image.open(FORMS_DIR / form_id / "blank.png").convert("RGB")
        assert overlay.size == blank.size
        # regions are drawn: the overlay differs from the blank inside a field's box
        x, y, w, h = load_form(form_id).field("application_date").parts[0].cells[0]  # type: ignore[index]
        region = (x, y, x + w, y + h)
        assert (
            np.abs(
                np.asarray(overlay.crop(region), dtype=int)
                - np.asarray(blank.crop(region), dtype=int)
            ).sum()
            > 0
        )


def test_forms_check_default_out_is_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHINSEI_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(forms_app, ["kaigo_nintei"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "forms-check" / "kaigo_nintei.png").is_file()
    assert not (tmp_path / "forms-check" / "kyufukin.png").exists()


def test_forms_check_fails_on_an_unknown_form(tmp_path: Path) -> None:
    result = CliRunner().invoke(forms_app, ["nosuchform", "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "no form definition" in result.output


def test_shinsei_cli_has_forms_check() -> None:
    from shinsei.cli import app

    names = [group.name for group in app.registered_groups]
    assert "forms" in names


# --- forms/measure.py ------------------------------------------------------------------------


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_measure_finds_what_the_definition_says(form_id: str) -> None:
    from forms.measure import measure

    spec = load_form(form_id)
    dropout = tuple(spec.dropout_ink_rgb) if spec.dropout_ink_rgb else None
    m = measure(FORMS_DIR / form_id / spec.template, dropout)  # type: ignore[arg-type]
    assert m.marks == spec.registration_marks.model_dump()
    if form_id == "kaigo_nintei":
        assert m.qr == spec.qr.box  # the printed code is found, then the dashed box around it
    found_combs = [c.cells for c in m.combs]
    for f in spec.fields:
        for cells in _comb_runs(f):
            assert any(all(c in comb for c in cells) for comb in found_combs), f.id
    found_squares = [cb.box for cb in m.checkboxes]
    for name, box in _squares(spec):
        assert box in found_squares, name


def test_measure_finds_light_red_lines_by_colour_not_darkness() -> None:
    from forms.measure import ink_mask, load_rgb

    rgb = load_rgb(FORMS_DIR / "kyufukin" / "blank.png")
    x, y, w, h = load_form("kyufukin").field("applicant_no").cells[0]  # type: ignore[index]
    by_colour = ink_mask(rgb, (240, 150, 120))
    assert by_colour[y + h // 2, x - 1] == 255  # the comb's printed line
    assert by_colour[y + h // 2, x - 8] == 0  # the pale fill of the 申請者番号 label cell
    by_darkness = ink_mask(rgb)
    assert by_darkness[y + h // 2, x - 1] == 0  # light red is not dark: darkness misses it
