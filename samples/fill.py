"""Put an :class:`~samples.application.Application` onto its blank form.

Every position comes from ``forms/<form_id>/form.yaml``: comb fields get one
character per cell, centred; split fields (dates, phone numbers, postal
codes) one piece per part; free text is written inside its box; choices are
ticked, crossed or filled in the option's box, or the printed label is
circled. Nothing here knows a particular form, so a new form needs a
form.yaml and a content module, not changes to this file.
"""

from __future__ import annotations

import random
from functools import cache
from pathlib import Path

import cv2

from forms import FieldSpec, FormSpec, Kind, load_form
from forms.loader import form_dir
from samples import _ink
from samples._ink import Box, Image, Pen
from samples.application import Application, Entry

_NUMERIC = {Kind.DIGITS, Kind.DATE}


@cache
def _template(form_id: str) -> Image:
    spec = load_form(form_id)
    path: Path = form_dir(form_id) / spec.template
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise FileNotFoundError(f"cannot read the blank form {path}")
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    rgb.setflags(write=False)
    return rgb


def blank_page(form_id: str) -> Image:
    """A fresh copy of the form's blank template (300 dpi RGB)."""
    return _template(form_id).copy()


def _box(b: list[int]) -> Box:
    return (b[0], b[1], b[2], b[3])


def _union(boxes: list[list[int]]) -> Box:
    x0 = min(b[0] for b in boxes)
    y0 = min(b[1] for b in boxes)
    x1 = max(b[0] + b[2] for b in boxes)
    y1 = max(b[1] + b[3] for b in boxes)
    return (x0, y0, x1 - x0, y1 - y0)


def _write_box(
    page: Image, text: str, box: Box, pen: Pen, rng: random.Random, entry: Entry
) -> None:
    """Free text in one box, with a struck-through first attempt when the entry has one."""
    align = "center" if entry.align == "center" else ("right" if entry.align == "right" else "left")
    if entry.wrong is None:
        _ink.write_line(page, text, box, pen, rng, align=align)
        return
    x, y, w, h = box
    size = h * pen.line_fill
    if h >= 110:
        # room for two lines: the struck attempt below, the correction squeezed in above
        ink = _ink.write_line(
            page, entry.wrong, (x, y + h // 2, w, h - h // 2), pen, rng, size=h * 0.36
        )
        _ink.strike(page, ink, pen, rng)
        _ink.write_line(page, text, (x, y, w, h // 2 + 4), pen, rng, size=h * 0.34, vpos=0.55)
        return
    # one line: the struck attempt on the left, the correction beside it
    gap = 0.8 * size
    need = _ink.text_width(entry.wrong, size, pen) + gap + _ink.text_width(text, size, pen)
    if need > w * 0.9:
        size *= w * 0.9 / need
    wrong_w = int(_ink.text_width(entry.wrong, size, pen) + 0.5 * size)
    ink = _ink.write_line(
        page, entry.wrong, (x, y, wrong_w + int(0.5 * size), h), pen, rng, size=size
    )
    _ink.strike(page, ink, pen, rng)
    start = x + wrong_w + int(gap)
    _ink.write_line(page, text, (start, y, x + w - start, h), pen, rng, size=size)


def _write_piece(
    page: Image,
    text: str,
    spec: FieldSpec,
    cells: list[list[int]] | None,
    box: list[int] | None,
    pen: Pen,
    rng: random.Random,
    entry: Entry,
) -> None:
    if cells is not None:
        numeric = spec.kind in _NUMERIC or text.isdigit()
        align = (
            entry.align
            if entry.align != "left"
            else ("right" if numeric and spec.kind is not Kind.DIGITS else "left")
        )
        _ink.write_cells(page, text, [_box(c) for c in cells], pen, rng, align=align)
    elif box is not None:
        if spec.parts:
            # a piece in its own small box (a phone group): centred and large, as people write
            size = box[3] * min(0.78, pen.line_fill + 0.2)
            _ink.write_line(page, text, _box(box), pen, rng, align="center", size=size)
        else:
            _write_box(page, text, _box(box), pen, rng, entry)


def _marks(page: Image, spec: FieldSpec, entry: Entry, pen: Pen, rng: random.Random) -> None:
    if spec.kind is Kind.CHECKBOX:
        if entry.marks and spec.box is not None:
            style = entry.style if entry.style != "circle" else "cross"
            _ink.MARKS[style](page, _box(spec.box), pen, rng, entry.outside)
        return
    for opt in spec.options or []:
        if opt.value not in entry.marks:
            continue
        if entry.style == "circle" and opt.label_box is not None:
            _ink.circle(page, _box(opt.label_box), pen, rng, entry.outside)
        else:
            style = "tick" if entry.style == "circle" else entry.style
            _ink.MARKS[style](page, _box(opt.box), pen, rng, entry.outside)


def write_field(
    page: Image,
    spec: FieldSpec,
    entry: Entry,
    pen: Pen,
    rng: random.Random,
    mark_pen: Pen | None = None,
) -> None:
    """Draw one field's entry at the place form.yaml gives it.

    ``mark_pen`` ticks boxes and signs (a resident who typed the entries
    still ticks and signs by hand); it defaults to ``pen``.
    """
    hand = mark_pen or pen
    if entry.qr_payload is not None and spec.box is not None:
        _ink.qr(page, entry.qr_payload, _box(spec.box))
    elif spec.kind in (Kind.CHECKBOX, Kind.CHOICE, Kind.MULTICHOICE):
        _marks(page, spec, entry, hand, rng)
    elif spec.kind is Kind.SIGNATURE:
        if entry.text and spec.box is not None:
            _ink.write_line(page, entry.text, _box(spec.box), hand.signing(), rng)
    elif spec.parts:
        pieces = entry.pieces
        if pieces is None and entry.text is not None:
            pieces = (entry.text,)
        by_name = {}
        if spec.kind is Kind.DATE and pieces is not None and len(pieces) == 3:
            by_name = dict(zip(("year", "month", "day"), pieces, strict=True))
        for i, part in enumerate(spec.parts):
            piece = (
                by_name.get(part.name)
                if by_name
                else (pieces[i] if pieces and i < len(pieces) else None)
            )
            if piece:
                _write_piece(page, piece, spec, part.cells, part.box, pen, rng, entry)
    else:
        text = entry.text
        if text is None and entry.pieces is not None:
            text = (spec.joiner or "-").join(entry.pieces)
        if text:
            _write_piece(page, text, spec, spec.cells, spec.box, pen, rng, entry)
    if entry.blacked_out:
        _ink.black_out(page, _union(spec.boxes()), rng)


def fill_form(
    spec: FormSpec,
    app: Application,
    pen: Pen,
    rng: random.Random,
    *,
    mark_pen: Pen | None = None,
    city: Pen | None = None,
) -> Image:
    """The form ``spec`` filled with ``app``.

    The city's pre-print is black Gothic type; the resident's entries use
    ``pen`` (handwriting or typing), ticks and the signature ``mark_pen``.
    """
    page = blank_page(spec.form_id)
    city = city or _ink.city_pen()
    for f in spec.fields:
        entry = app.entries.get(f.id)
        if entry is None:
            continue
        if entry.preprinted:
            write_field(page, f, entry, city, rng, city)
        else:
            write_field(page, f, entry, pen, rng, mark_pen)
    for box, text in app.card.get("preprint_extras", []):
        _ink.write_line(page, text, box, city, rng, align="right")
    return page
