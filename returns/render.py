"""Lay out return letters as A4 PDF pages for a 長形3号 window envelope (reportlab).

The page is folded in three (三つ折り, fold marks at 99 and 198 mm) and put
in a 長形3号 window envelope (120 × 235 mm). The address window of the
common ready-made envelopes is about 90 × 45 mm, about 20 mm from the left
and 12 mm from the top of the folded letter (Japan Post asks for an
address window of at least 45 × 80 mm). :data:`WINDOW` is that area on the
page: the 〒 postal code, the address lines and 「氏名 様」 are printed inside
it with a 5 mm margin for the letter's play in the envelope, and nothing else
is drawn there. The date, the reference number and the city's sender block
stand to the right of the window; the body begins below it.

One PDF holds many letters (a print batch's letters of one type). Each
letter starts on a new page; its footer says ``1/2``, ``2/2`` so the
mailing team puts the right pages in one envelope.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepTogether,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from returns.fonts import describe, missing_glyphs, register_fonts
from returns.letter import LetterHeld, LetterText

PAGE_W, PAGE_H = A4

#: The envelope window on the page, in mm from the top left: x, y, width, height.
WINDOW = (20.0, 12.0, 90.0, 45.0)
#: Margin kept free inside the window, for the letter's play in the envelope.
WINDOW_MARGIN = 5.0
#: Fold lines of the 三つ折り, in mm from the top.
FOLDS = (99.0, 198.0)

_LEFT, _RIGHT = 20.0, 190.0  # text column, mm
_BODY_TOP_FIRST = 61.0  # below the window and the sender block
_BODY_TOP_LATER = 18.0
_BODY_BOTTOM = 281.0
_FOOTER_Y = 289.0

_ADDRESS_SIZES = (11.0, 10.5, 10.0, 9.5, 9.0, 8.5, 8.0)
_NAME_SIZES = (14.0, 13.0, 12.0, 11.0, 10.0, 9.0, 8.0)


def _y(top_mm: float) -> float:
    """The reportlab y (points from the bottom) of a distance from the page top in mm."""
    return PAGE_H - top_mm * mm


@dataclass(frozen=True)
class WindowLine:
    """One line of the addressee block: text, font, size (pt) and baseline (mm from top)."""

    text: str
    font: str
    size: float
    baseline: float


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Break ``text`` into lines no wider than ``width`` points (any character may break)."""
    lines: list[str] = []
    line = ""
    for ch in text:
        if line and stringWidth(line + ch, font, size) > width:
            lines.append(line)
            line = ch.lstrip()
        else:
            line += ch
    if line:
        lines.append(line)
    return lines


def layout_window(text: LetterText) -> list[WindowLine]:
    """The addressee block, shrunk (and wrapped) to fit the window; :class:`LetterHeld` if not."""
    gothic, _ = register_fonts()
    x, y, w, h = WINDOW
    width = (w - 2 * WINDOW_MARGIN) * mm
    height = (h - 2 * WINDOW_MARGIN) * mm
    for addr_size, name_size in zip(_ADDRESS_SIZES, _NAME_SIZES, strict=True):
        lines: list[tuple[str, float]] = []
        for raw in text.window:
            lines += [(part, addr_size) for part in _wrap(raw, gothic, addr_size, width)]
        name_lines = _wrap(text.addressee_name, gothic, name_size, width)
        if len(name_lines) > 1:
            continue
        lines.append((name_lines[0], name_size))
        # Leading 1.35 × size; a little air before the name line.
        used = sum(size * 1.35 for _, size in lines) + name_size * 0.6
        if used <= height:
            break
    else:
        raise LetterHeld("宛名（住所・氏名）が封筒の窓に収まりません")
    out: list[WindowLine] = []
    top = y + WINDOW_MARGIN
    for i, (line, size) in enumerate(lines):
        if i == len(lines) - 1:
            top += size * 0.6 / mm
        top += size * 1.35 / mm
        out.append(WindowLine(line, gothic, size, top - size * 0.3 / mm))
    return out


_COLUMNS = ("番号", "項目", "内容")
_HEADINGS = (
    "１　訂正・記入していただきたい箇所",
    "２　ご返送いただくもの",
    "３　ご返送の期限",
    "４　ご注意",
)
#: Words every letter prints besides its :class:`LetterText`.
FIXED_TEXT = (*_COLUMNS, *_HEADINGS, "記", "以上", "・", "0123456789/")


def check_printable(text: LetterText) -> list[WindowLine]:
    """Raise :class:`LetterHeld` if any character lacks a glyph or the address does not fit."""
    missing = missing_glyphs(*text.strings(), *FIXED_TEXT)
    if missing:
        raise LetterHeld(f"フォントにない文字があります: {describe(missing)}")
    return layout_window(text)


# -- styles -------------------------------------------------------------------


def _styles() -> dict[str, ParagraphStyle]:
    gothic, mincho = register_fonts()
    base = {"wordWrap": "CJK", "textColor": colors.black}
    return {
        "title": ParagraphStyle(
            "title", fontName=gothic, fontSize=15, leading=22, alignment=TA_CENTER, **base
        ),
        "subtitle": ParagraphStyle(
            "subtitle",
            fontName=gothic,
            fontSize=11,
            leading=16,
            alignment=TA_CENTER,
            spaceAfter=10,
            **base,
        ),
        "body": ParagraphStyle(
            "body", fontName=mincho, fontSize=10.5, leading=16, firstLineIndent=10.5, **base
        ),
        "center": ParagraphStyle(
            "center", fontName=mincho, fontSize=10.5, leading=16, alignment=TA_CENTER, **base
        ),
        "right": ParagraphStyle(
            "right", fontName=mincho, fontSize=10.5, leading=16, alignment=TA_RIGHT, **base
        ),
        "heading": ParagraphStyle(
            "heading",
            fontName=gothic,
            fontSize=11,
            leading=16,
            spaceBefore=6,
            spaceAfter=2,
            **base,
        ),
        "item": ParagraphStyle(
            "item",
            fontName=mincho,
            fontSize=10.5,
            leading=15,
            leftIndent=10.5 * 2,
            firstLineIndent=-10.5,
            **base,
        ),
        "indent": ParagraphStyle(
            "indent", fontName=mincho, fontSize=10.5, leading=15, leftIndent=10.5, **base
        ),
        "cell": ParagraphStyle("cell", fontName=mincho, fontSize=9.5, leading=13.5, **base),
        "cell_head": ParagraphStyle(
            "cell_head", fontName=gothic, fontSize=9.5, leading=13, alignment=TA_CENTER, **base
        ),
        "cell_no": ParagraphStyle(
            "cell_no", fontName=gothic, fontSize=9.5, leading=13.5, alignment=TA_CENTER, **base
        ),
        "contact_head": ParagraphStyle(
            "contact_head", fontName=gothic, fontSize=10, leading=15, **base
        ),
        "contact": ParagraphStyle(
            "contact", fontName=mincho, fontSize=10, leading=15, leftIndent=10, **base
        ),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text), style)


def _story(text: LetterText, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    """The flowing part of one letter, from the title to the contact box."""
    story: list[Flowable] = [_p(text.title, st["title"]), _p(text.subtitle, st["subtitle"])]
    story += [_p(part, st["body"]) for part in text.opening.split("\n")]
    story += [Spacer(1, 2.5 * mm), _p("記", st["center"])]

    story.append(_p(_HEADINGS[0], st["heading"]))
    rows: list[list[Any]] = [[_p(c, st["cell_head"]) for c in _COLUMNS]]
    rows += [
        [_p(no, st["cell_no"]), _p(item, st["cell"]), _p(msg, st["cell"])]
        for no, item, msg in text.items
    ]
    table = Table(rows, colWidths=[13 * mm, 45 * mm, 112 * mm], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                # Cells are Paragraphs, but the table still sets its own font.
                ("FONT", (0, 0), (-1, -1), st["cell"].fontName),
                ("GRID", (0, 0), (-1, -1), 0.6, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.88, 0.88, 0.88)),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 2.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3.5),
                ("LEFTPADDING", (0, 0), (-1, -1), 5),
                ("RIGHTPADDING", (0, 0), (-1, -1), 5),
            ]
        )
    )
    story.append(table)

    story.append(_p(_HEADINGS[1], st["heading"]))
    story += [_p(f"・{item}", st["item"]) for item in text.return_items]

    story.append(_p(_HEADINGS[2], st["heading"]))
    story += [_p(part, st["indent"]) for part in (text.deadline, text.return_how) if part]

    notes = [n for n in (text.note, text.correction_note) if n]
    if notes:
        story.append(_p(_HEADINGS[3], st["heading"]))
        story += [_p(f"・{n}", st["item"]) for n in notes]
    story += [_p("以上", st["right"]), Spacer(1, 3 * mm)]

    head, name, line = text.contact
    box = Table(
        [[_p(head, st["contact_head"])], [_p(name, st["contact"])], [_p(line, st["contact"])]],
        colWidths=[(_RIGHT - _LEFT) * mm],
    )
    box.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), st["contact"].fontName),
                ("BOX", (0, 0), (-1, -1), 0.8, colors.black),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
                ("TOPPADDING", (0, 0), (-1, 0), 5),
                ("BOTTOMPADDING", (0, -1), (-1, -1), 6),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
            ]
        )
    )
    story.append(KeepTogether([box]))
    return story


# -- pages ----------------------------------------------------------------------


@dataclass
class _Run:
    """What the page callbacks need to know while the document is built."""

    texts: Sequence[LetterText]
    windows: Sequence[list[WindowLine]]
    current: int = 0
    first_page: int = 1
    pages: dict[int, int] = field(default_factory=dict)


class _LetterStart(Flowable):
    """Marks where letter ``index`` begins (draws nothing)."""

    def __init__(self, run: _Run, index: int) -> None:
        super().__init__()
        self.run, self.index = run, index

    def wrap(self, _aw: float, _ah: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        self.run.current = self.index
        self.run.first_page = self.canv.getPageNumber()


class _LetterEnd(Flowable):
    """Records how many pages letter ``index`` took and fills in its page total."""

    def __init__(self, run: _Run, index: int) -> None:
        super().__init__()
        self.run, self.index = run, index

    def wrap(self, _aw: float, _ah: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        canv = self.canv
        pages = canv.getPageNumber() - self.run.first_page + 1
        self.run.pages[self.index] = pages
        # The footers drew a reference to this form before the total was known.
        gothic, _ = register_fonts()
        canv.beginForm(f"letter_total_{self.index}")
        canv.setFont(gothic, 7.5)
        canv.setFillColor(colors.Color(0.3, 0.3, 0.3))
        canv.drawString(0, 0, str(pages))
        canv.endForm()


def _draw_header(canv: Canvas, text: LetterText, window: list[WindowLine]) -> None:
    gothic, mincho = register_fonts()
    for line in window:
        canv.setFont(line.font, line.size)
        canv.drawString((WINDOW[0] + WINDOW_MARGIN) * mm, _y(line.baseline), line.text)

    canv.setFont(gothic, 8.5)
    canv.drawRightString(_RIGHT * mm, _y(16), text.reference)
    canv.setFont(mincho, 10.5)
    canv.drawRightString(_RIGHT * mm, _y(23), text.date)
    org, address, phone = text.sender
    size = 11.0
    while size > 8 and stringWidth(org, gothic, size) > 75 * mm:
        size -= 0.5
    canv.setFont(gothic, size)
    canv.drawRightString(_RIGHT * mm, _y(36), org)
    small = 8.5
    while small > 6.5 and stringWidth(address, mincho, small) > 75 * mm:
        small -= 0.5
    canv.setFont(mincho, small)
    canv.drawRightString(_RIGHT * mm, _y(41.5), address)
    canv.drawRightString(_RIGHT * mm, _y(46), phone)


def _draw_page(canv: Canvas, run: _Run) -> None:
    gothic, _ = register_fonts()
    index = run.current
    page_in_letter = canv.getPageNumber() - run.first_page + 1
    canv.saveState()
    if page_in_letter == 1:
        _draw_header(canv, run.texts[index], run.windows[index])
    # Fold marks at the left edge, outside the window and the text column.
    canv.setStrokeColor(colors.Color(0.6, 0.6, 0.6))
    canv.setLineWidth(0.3)
    for fold in FOLDS:
        canv.line(3 * mm, _y(fold), 8 * mm, _y(fold))
    canv.setFont(gothic, 7.5)
    canv.setFillColor(colors.Color(0.3, 0.3, 0.3))
    text = run.texts[index]
    canv.drawString(_LEFT * mm, _y(_FOOTER_Y), text.footer)
    label = f"{text.reference}\u3000{page_in_letter}/"
    total_w = stringWidth("99", gothic, 7.5)
    x = _RIGHT * mm - total_w - stringWidth(label, gothic, 7.5)
    canv.drawString(x, _y(_FOOTER_Y), label)
    canv.translate(_RIGHT * mm - total_w, _y(_FOOTER_Y))
    canv.doForm(f"letter_total_{index}")
    canv.restoreState()


def render_letters(
    path: Path,
    texts: Sequence[LetterText],
    *,
    title: str,
    author: str,
) -> list[int]:
    """Write ``texts`` as one PDF, each letter from a new page; return each letter's page count.

    Every text must have passed :func:`check_printable`.
    """
    if not texts:
        raise ValueError("no letters to render")
    gothic, _ = register_fonts()
    windows = [layout_window(t) for t in texts]
    run = _Run(texts=texts, windows=windows)
    st = _styles()
    width = (_RIGHT - _LEFT) * mm
    first = Frame(
        _LEFT * mm,
        _y(_BODY_BOTTOM),
        width,
        (_BODY_BOTTOM - _BODY_TOP_FIRST) * mm,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
        id="first",
    )
    later = Frame(
        _LEFT * mm,
        _y(_BODY_BOTTOM),
        width,
        (_BODY_BOTTOM - _BODY_TOP_LATER) * mm,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
        id="later",
    )

    def on_page_end(canv: Canvas, _doc: BaseDocTemplate) -> None:
        _draw_page(canv, run)

    doc = BaseDocTemplate(
        str(path),
        pagesize=A4,
        title=title,
        author=author,
        creator="shinsei returns",
        invariant=1,
        # Without this every page names Helvetica, a font that is not embedded.
        initialFontName=gothic,
        pageTemplates=[
            PageTemplate("first", [first], onPageEnd=on_page_end, autoNextPageTemplate="later"),
            PageTemplate("later", [later], onPageEnd=on_page_end),
        ],
    )
    story: list[Flowable] = []
    for i, text in enumerate(texts):
        if i:
            story += [NextPageTemplate("first"), PageBreak()]
        story.append(_LetterStart(run, i))
        story += _story(text, st)
        story.append(_LetterEnd(run, i))
    doc.build(story)
    return [run.pages[i] for i in range(len(texts))]
