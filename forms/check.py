"""Check form definitions: ``shinsei forms check [FORM_ID] [--out DIR]``.

For every ``forms/<form_id>/form.yaml`` (or the one named) this

1. loads it with the form loader (schema, bounds, named rules and normalisers);
2. compares it with the city's data dictionary ``dictionary.yaml`` beside it:
   the same field ids (and count), kinds, ``required``, comb lengths, option
   values and labels, and allowed values;
3. checks the geometry a loader cannot judge: comb cells left to right and
   not overlapping;
4. draws every region on the blank template, labelled with its field id
   (and option value), to ``<out>/<form_id>.png`` -- look at it: every box
   must sit on its printed box.

Any problem makes the command exit non-zero, so CI can run it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from PIL import Image, ImageDraw, ImageFont

from forms.loader import FORMS_DIR, FormDefinitionError, parse_form
from forms.schema import Box, FieldSpec, FormSpec, Kind

#: Japanese-capable font for overlay labels (fonts-ipaexfont); PIL's own font otherwise.
LABEL_FONT = Path("/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf")

# RGBA outline colours by kind of region, chosen to stand out on black and light-red forms
_COLOURS: dict[str, tuple[int, int, int]] = {
    "cell": (0, 150, 0),
    "box": (0, 90, 255),
    "option": (230, 0, 200),
    "label": (150, 0, 255),
    "part": (0, 170, 170),
    "preprinted": (130, 90, 0),
    "mark": (255, 0, 0),
}


@dataclass
class FormCheck:
    """The outcome of checking one form."""

    form_id: str
    fields: int = 0
    dictionary_fields: int | None = None
    problems: list[str] = field(default_factory=list)
    overlay: Path | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def dictionary_problems(spec: FormSpec, dictionary: dict[str, Any]) -> list[str]:
    """Where ``spec`` disagrees with the city's data dictionary (ids, kinds, options...)."""
    problems: list[str] = []
    entries = {d["id"]: d for d in dictionary.get("fields") or []}
    declared = dictionary.get("field_count")
    if declared is not None and declared != len(entries):
        problems.append(f"dictionary.yaml says field_count {declared} but lists {len(entries)}")
    defined = {f.id: f for f in spec.fields}
    for fid in entries.keys() - defined.keys():
        problems.append(f"field {fid!r} of the dictionary is not defined")
    for fid in defined.keys() - entries.keys():
        problems.append(f"field {fid!r} is not in the dictionary")
    for fid, f in defined.items():
        d = entries.get(fid)
        if d is not None:
            problems.extend(f"field {fid!r}: {p}" for p in _field_problems(f, d))
    return problems


def _field_problems(f: FieldSpec, d: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    if f.kind != d.get("kind"):
        problems.append(f"kind is {f.kind.value!r}, the dictionary says {d.get('kind')!r}")
    if f.label_ja != d.get("label_ja"):
        problems.append(f"label_ja is {f.label_ja!r}, the dictionary says {d.get('label_ja')!r}")
    if f.required != str(d.get("required", "no")):
        problems.append(f"required is {f.required!r}, the dictionary says {d.get('required')!r}")
    if d.get("length") is not None:
        length = f.length if f.length is not None else _cell_count(f)
        if length != d["length"]:
            problems.append(f"length is {length}, the dictionary says {d['length']}")
    want = [(o["value"], o["label_ja"]) for o in d.get("options") or []]
    have = [(o.value, o.label_ja) for o in f.options or []]
    if want != have:
        problems.append(f"options are {have}, the dictionary says {want}")
    if (d.get("allowed_values") or None) != (f.allowed_values or None):
        problems.append("allowed_values differ from the dictionary")
    return problems


def _cell_count(f: FieldSpec) -> int | None:
    if f.cells is not None:
        return len(f.cells)
    if f.parts and all(p.cells is not None for p in f.parts):
        return sum(len(p.cells or []) for p in f.parts)
    return None


def geometry_problems(spec: FormSpec) -> list[str]:
    """Comb cells must run left to right without overlapping, one character per cell."""
    problems: list[str] = []
    for f in spec.fields:
        combs = [("cells", f.cells)] if f.cells else []
        combs += [(f"part {p.name}", p.cells) for p in f.parts or [] if p.cells]
        for where, cells in combs:
            assert cells is not None
            for left, right in zip(cells, cells[1:], strict=False):
                if right[0] < left[0] + left[2]:
                    problems.append(
                        f"field {f.id!r} ({where}): cell {right} is not right of cell {left}"
                    )
    return problems


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if LABEL_FONT.is_file():
        return ImageFont.truetype(str(LABEL_FONT), size)
    return ImageFont.load_default(size)


def draw_overlay(spec: FormSpec, template: Path, out: Path) -> Path:
    """Draw every region of ``spec`` on its blank ``template``, labelled; write ``out``."""
    base = Image.open(template).convert("RGBA")
    layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    font = _font(22)

    def rect(box: Box, colour: tuple[int, int, int], width: int = 3) -> None:
        x, y, w, h = box
        draw.rectangle(
            (x, y, x + w - 1, y + h - 1), outline=(*colour, 255), width=width, fill=(*colour, 40)
        )

    def label(text: str, box: Box, colour: tuple[int, int, int], above: bool = True) -> None:
        x, y, _, h = box
        tx, ty = (x, y - 26) if above else (x, y + h + 2)
        left, top, right, bottom = draw.textbbox((tx, ty), text, font=font)
        draw.rectangle((left - 2, top - 2, right + 2, bottom + 2), fill=(255, 255, 255, 220))
        draw.text((tx, ty), text, font=font, fill=(*colour, 255))

    for name, box in spec.registration_marks.model_dump().items():
        rect(box, _COLOURS["mark"], 4)
        label(name, box, _COLOURS["mark"], above=box[1] > 200)
    rect(spec.qr.box, _COLOURS["mark"], 4)
    label("qr", spec.qr.box, _COLOURS["mark"], above=False)

    for f in spec.fields:
        colour = _COLOURS[
            "preprinted" if f.kind is Kind.PREPRINTED else "option" if f.options else "box"
        ]
        first: Box | None = None
        if f.box is not None:
            rect(f.box, colour)
            first = f.box
        for cell in f.cells or []:
            rect(cell, _COLOURS["cell"], 2)
            first = first or cell
        for part in f.parts or []:
            for box in [part.box] if part.box is not None else part.cells or []:
                rect(box, _COLOURS["part"] if part.box is not None else _COLOURS["cell"], 2)
            part_first = part.box if part.box is not None else (part.cells or [])[0]
            label(part.name, part_first, _COLOURS["part"], above=False)
            first = first or part_first
        for opt in f.options or []:
            rect(opt.box, _COLOURS["option"])
            if opt.label_box is not None:
                rect(opt.label_box, _COLOURS["label"], 2)
            label(f"={opt.value}", opt.box, _COLOURS["option"], above=False)
            first = first or opt.box
        if first is not None:
            label(f.id, first, colour if f.box is not None or f.options else _COLOURS["cell"])
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.alpha_composite(base, layer).convert("RGB").save(out)
    return out


def check_form(form_id: str, out_dir: Path | None, forms_dir: Path = FORMS_DIR) -> FormCheck:
    """Check one form; draw its overlay into ``out_dir`` unless that is ``None``."""
    result = FormCheck(form_id)
    path = forms_dir / form_id / "form.yaml"
    if not path.is_file():
        result.problems.append(f"{path}: no form definition")
        return result
    try:
        spec = parse_form(path)
    except FormDefinitionError as exc:
        result.problems.append(str(exc))
        return result
    result.fields = len(spec.fields)
    dict_path = path.parent / "dictionary.yaml"
    if dict_path.is_file():
        dictionary = yaml.safe_load(dict_path.read_text(encoding="utf-8")) or {}
        result.dictionary_fields = len(dictionary.get("fields") or [])
        result.problems += [f"{path}: {p}" for p in dictionary_problems(spec, dictionary)]
    else:
        result.problems.append(f"{path}: no dictionary.yaml beside it to compare with")
    result.problems += [f"{path}: {p}" for p in geometry_problems(spec)]
    template = path.parent / spec.template
    with Image.open(template) as img:
        if list(img.size) != spec.size:
            result.problems.append(
                f"{path}: template is {img.size[0]}x{img.size[1]}, size says {spec.size}"
            )
    if out_dir is not None:
        result.overlay = draw_overlay(spec, template, out_dir / f"{form_id}.png")
    return result


def check_forms(
    form_ids: list[str] | None, out_dir: Path | None, forms_dir: Path = FORMS_DIR
) -> list[FormCheck]:
    """Check the named forms, or every folder of ``forms_dir`` with a form.yaml or dictionary."""
    if not form_ids:
        form_ids = sorted(
            p.name
            for p in forms_dir.iterdir()
            if p.is_dir() and ((p / "form.yaml").is_file() or (p / "dictionary.yaml").is_file())
        )
    return [check_form(fid, out_dir, forms_dir) for fid in form_ids]
