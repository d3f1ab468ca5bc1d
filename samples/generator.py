"""The sample batch generator: envelopes of filled forms as scanned, with ground truth.

Two steps, both deterministic:

1. :func:`plan_batch` decides, from the seed alone, what each envelope is
   (form or unknown document, which household or resident, style, defects,
   file format, scan mode and resolution, duplicates). The demo preset
   (:mod:`samples.demo`) writes these plans by hand instead.
2. :func:`build_envelope` turns one plan into the bytes of its scan file and
   its truth record, with a random generator seeded from the batch seed and
   the envelope's index only, so envelopes can be built in any order, in
   parallel, and still come out byte-identical.

:func:`generate_batch` runs both and writes the files and ``truth.jsonl``.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from forms import FormSpec, load_form
from samples import _ink, defects, pages, scanner, writers
from samples.application import Application
from samples.fill import fill_form
from samples.truth import dumps, record
from shinsei.errors import BadInputError
from shinsei.residents import ResidentRegistry, registry

log = logging.getLogger(__name__)

UNKNOWN_KINDS = ("cover_letter", "flyer")
STYLES = ("handwriting", "printed")
FORMATS = ("pdf", "tiff", "png", "jpeg")
MODES = ("color", "gray", "bilevel")


@dataclass(frozen=True)
class Options:
    """What a batch should look like (the ``shinsei samples generate`` options)."""

    count: int = 20
    seed: int = 0
    forms: tuple[str, ...] = ("kyufukin", "kaigo_nintei")
    form_weights: tuple[float, ...] = ()
    """Relative share of each form (default: 70 % kyufukin, the rest split)."""
    style: str = "mixed"
    """``handwriting``, ``printed`` or ``mixed`` (about two thirds handwritten)."""
    defect_rate: float = 0.3
    non_defect_rate: float = 0.15
    unknown_rate: float = 0.03
    duplicate_rate: float = 0.0
    formats: tuple[str, ...] = FORMATS
    modes: tuple[str, ...] = MODES
    dpis: tuple[int, ...] = (200, 300)
    extra_pages: bool = True
    upside_down_rate: float = 0.04
    rotate90_rate: float = 0.01
    shuffle_rate: float = 0.15
    qr_damage_rate: float = 0.02
    clean: bool = False
    """Clean printed sets: typed entries, no scanner effects, pages upright and in order."""
    prefix: str = "scan"


@dataclass(frozen=True)
class EnvelopePlan:
    """Everything decided about one envelope before it is drawn.

    ``None`` in an optional field means "let the envelope's own random
    generator decide"; the demo preset pins them.
    """

    index: int
    name: str
    kind: str
    """A form id, or ``cover_letter`` / ``flyer`` (no form)."""
    subject: str | None = None
    """household_id (kyufukin) or member_no (kaigo_nintei)."""
    style: str = "handwriting"
    defects: tuple[str, ...] = ()
    non_defects: tuple[str, ...] = ()
    fmt: str = "pdf"
    mode: str = "gray"
    dpi: int = 300
    duplicate_of: str | None = None
    """File name of the earlier envelope of the same household (→ review)."""
    clean: bool = False
    upside_down: bool | None = None
    """The form page lies upside down in the feeder."""
    rotate90: bool = False
    shuffle: bool | None = None
    """The form is not the first page."""
    qr_damaged: bool = False
    blank_back: bool | None = None
    enclosures: bool | None = None
    """Whether copies are enclosed (``None``: as the content decides)."""
    note: str = ""
    seed: int = 0
    rates: tuple[float, float] = (0.04, 0.01)
    """Upside-down and 90° rates for the pages the plan does not pin."""

    @property
    def file_name(self) -> str:
        return self.name + writers.SUFFIX[self.fmt]


# --------------------------------------------------------------------------- planning


def envelope_seed(seed: int, index: int) -> int:
    """The seed of envelope ``index`` of a batch: depends on nothing else."""
    return int(np.random.SeedSequence([seed, index, 0x5A]).generate_state(1)[0])


def content_module(form_id: str) -> ModuleType:
    """``samples.content.<form_id>``: how residents fill that form."""
    try:
        return importlib.import_module(f"samples.content.{form_id}")
    except ModuleNotFoundError:
        raise BadInputError(
            form_id,
            "no content module samples/content/<form_id>.py says how residents fill this form",
        ) from None


def _weighted(rng: random.Random, items: Sequence[Any], weights: Sequence[float]) -> Any:
    return rng.choices(list(items), weights=list(weights), k=1)[0]


_FORMAT_WEIGHTS = {"pdf": 70.0, "tiff": 15.0, "png": 7.5, "jpeg": 7.5}
_MODE_WEIGHTS = {"color": 30.0, "gray": 35.0, "bilevel": 35.0}


class SubjectPool:
    """Each form's eligible subjects in a seeded order, handed out without repeats."""

    def __init__(self, reg: ResidentRegistry, forms: Sequence[str], rng: random.Random) -> None:
        self.reg = reg
        self.queues: dict[str, list[str]] = {}
        self.modules = {f: content_module(f) for f in forms}
        for f in forms:
            ids = list(self.modules[f].subjects(reg))
            rng.shuffle(ids)
            self.queues[f] = ids
        self.pos = dict.fromkeys(forms, 0)

    def take(self, form_id: str, requires: dict[str, Any]) -> str:
        queue, start = self.queues[form_id], self.pos[form_id]
        for i in range(start, start + len(queue)):
            j = i % len(queue)
            facts = self.modules[form_id].facts(self.reg, queue[j])
            if all(facts.get(k) == v for k, v in requires.items() if k != "enclosures"):
                # move the match to the cursor so the order stays a permutation
                k = start % len(queue)
                queue[k], queue[j] = queue[j], queue[k]
                self.pos[form_id] = start + 1
                return queue[k]
        raise BadInputError(form_id, f"no resident in the registry satisfies {requires}")


def _default_weights(forms: Sequence[str]) -> list[float]:
    """The 給付金 form is most of the mail (70 %) when it is in the mix; others share the rest."""
    if "kyufukin" not in forms or len(forms) == 1:
        return [1.0] * len(forms)
    return [0.7 if f == "kyufukin" else 0.3 / (len(forms) - 1) for f in forms]


def application_key(plan: EnvelopePlan, reg: ResidentRegistry) -> str | None:
    """The key (申請者番号, 被保険者番号 / 個人番号) the planned application will carry."""
    _, app, _, _ = build_application(
        replace(plan, duplicate_of=None), random.Random(plan.seed), reg
    )
    key = app.facts.get("key")
    return str(key) if key else None


def first_same_key(
    plan: EnvelopePlan, earlier: Sequence[EnvelopePlan], reg: ResidentRegistry
) -> str | None:
    """File name of the first earlier envelope with the same key: the one ``plan`` duplicates.

    Keys are what the ledger compares (二重申請), and a defect can change one
    (a kaigo form without its 被保険者番号 is keyed by the 個人番号), so they
    are worked out from the applications rather than from the subject.
    """
    key = application_key(plan, reg)
    if key is None:
        return None
    for other in earlier:
        if other.subject == plan.subject and application_key(other, reg) == key:
            return other.file_name
    return None


def plan_batch(options: Options, reg: ResidentRegistry | None = None) -> list[EnvelopePlan]:
    """Decide every envelope of a batch from the options and the seed."""
    reg = reg or registry()
    rng = random.Random(options.seed)
    forms = list(options.forms)
    for f in forms:
        load_form(f)  # fail early on an unknown form
    weights = list(options.form_weights) or _default_weights(forms)
    if len(weights) != len(forms):
        raise BadInputError("options", "give one weight per form")
    subjects = SubjectPool(reg, forms, rng)
    formats = [f for f in FORMATS if f in options.formats]
    modes = [m for m in MODES if m in options.modes]
    if not formats or not modes or not options.dpis:
        raise BadInputError("options", "at least one format, scan mode and dpi is needed")
    plans: list[EnvelopePlan] = []
    seen: dict[str, list[EnvelopePlan]] = {}  # form → its envelopes in file order
    for index in range(1, options.count + 1):
        name = f"{options.prefix}_{index:04d}"
        fmt = _weighted(rng, formats, [_FORMAT_WEIGHTS[f] for f in formats])
        mode = _weighted(rng, modes, [_MODE_WEIGHTS[m] for m in modes])
        if fmt == "jpeg" and mode == "bilevel":
            mode = "gray"
        dpi = rng.choice(list(options.dpis))
        common = {
            "index": index,
            "name": name,
            "fmt": fmt,
            "mode": mode,
            "dpi": dpi,
            "clean": options.clean,
            "seed": envelope_seed(options.seed, index),
            "rates": (0.0, 0.0)
            if options.clean
            else (options.upside_down_rate, options.rotate90_rate),
        }
        if rng.random() < options.unknown_rate:
            plans.append(EnvelopePlan(kind=rng.choice(UNKNOWN_KINDS), style="printed", **common))
            continue
        form_id = _weighted(rng, forms, weights)
        style = (
            options.style
            if options.style in STYLES
            else ("handwriting" if rng.random() < 0.65 else "printed")
        )
        if options.clean:
            style = "printed"
        single = fmt not in writers.MULTI_PAGE
        chosen: tuple[str, ...] = ()
        earlier = seen.setdefault(form_id, [])
        if earlier and rng.random() < options.duplicate_rate:
            subject = earlier[rng.randrange(len(earlier))].subject
            repeat = True
        else:
            if rng.random() < options.defect_rate:
                pool = [
                    d
                    for d in defects.for_form(form_id)
                    if not (single and d.requires.get("enclosures"))
                ]
                if pool:
                    chosen = (rng.choice(pool).code,)
            requires = defects.BY_CODE[chosen[0]].requires if chosen else {}
            subject = subjects.take(form_id, requires)
            # the registry ran out and a subject comes round again: a duplicate too
            repeat = any(e.subject == subject for e in earlier)
            if repeat:
                chosen = ()
        non: tuple[str, ...] = ()
        # non-defects only on otherwise clean applications: the validators treat a
        # corrected or stray reading as doubtful, which would turn a reject into a review
        if not chosen and not repeat and rng.random() < options.non_defect_rate:
            non = (rng.choice(sorted(defects.NON_DEFECTS)),)
        plan = EnvelopePlan(
            kind=form_id,
            subject=subject,
            style=style,
            defects=chosen,
            non_defects=non,
            qr_damaged=(not options.clean) and rng.random() < options.qr_damage_rate,
            shuffle=False if options.clean else (rng.random() < options.shuffle_rate),
            blank_back=None if options.extra_pages else False,
            enclosures=None if options.extra_pages else False,
            **common,
        )
        if repeat:
            plan = replace(plan, duplicate_of=first_same_key(plan, earlier, reg))
        earlier.append(plan)
        plans.append(plan)
    return plans


# --------------------------------------------------------------------------- building


@dataclass
class Envelope:
    """One built envelope: the file's bytes and its truth record."""

    file_name: str
    data: bytes
    truth: dict[str, Any]
    seconds: float = 0.0
    """CPU seconds spent building it."""


@dataclass
class _Sheet:
    kind: str
    image: np.ndarray
    upside_down: bool = False
    rotate90: bool = False


def _finding(code: str, fields: list[str], severity: str = "error") -> dict[str, Any]:
    return {"code": code, "fields": fields, "severity": severity}


def build_application(
    plan: EnvelopePlan, rng: random.Random, reg: ResidentRegistry
) -> tuple[FormSpec, Application, list[dict[str, Any]], list[dict[str, str]]]:
    """The filled-in application of a form envelope, with its defects and non-defects.

    Draws from ``rng`` before anything is rendered, so the same plan gives
    the same application whether or not the pages are drawn afterwards.
    """
    spec = load_form(plan.kind)
    module = content_module(plan.kind)
    single = plan.fmt not in writers.MULTI_PAGE
    enclosures = not single if plan.enclosures is None else (plan.enclosures and not single)
    if plan.subject is None:
        raise BadInputError(
            plan.file_name, "a form envelope needs a subject (household or resident)"
        )
    app: Application = module.build(spec, reg, plan.subject, rng, enclosures=enclosures)
    findings: list[dict[str, Any]] = []
    for code in plan.defects:
        defect = defects.BY_CODE[code]
        at_fault = defect.inject(app, rng, reg)
        findings.append(_finding(code, at_fault, defect.severity))
    findings.extend(app.facts.pop("also", []))
    done_non = []
    for name in plan.non_defects:
        fid = defects.NON_DEFECTS[name](app, rng)
        if fid:
            done_non.append({"kind": name, "field": fid})
    if plan.qr_damaged:
        # a stain or scribble will cover the code: a perfect reader gets nothing from it
        app.values["qr_code"] = None
        app.flag("qr_code", "damaged")
    if plan.duplicate_of:
        findings.append(
            _finding(defects.DUPLICATE_CODES[plan.kind], list(spec.key_fields[:1]), "warning")
        )
    return spec, app, findings, done_non


def _build_form(
    plan: EnvelopePlan, rng: random.Random, reg: ResidentRegistry
) -> tuple[FormSpec, Application, list[_Sheet], list[dict[str, Any]], dict[str, Any]]:
    spec, app, findings, done_non = build_application(plan, rng, reg)
    single = plan.fmt not in writers.MULTI_PAGE
    hand = _ink.hand_pen(rng)
    text_pen = hand if plan.style == "handwriting" else _ink.typing_pen(rng)
    page = fill_form(spec, app, text_pen, rng, mark_pen=hand)
    extra: dict[str, Any] = {
        "pen": {"face": text_pen.face, "ink": list(text_pen.color)},
        "non_defects": done_non,
    }
    if plan.qr_damaged:
        x, y, w, h = spec.qr.box
        extra["qr_damage"] = pages.damage_qr(page, (x, y, w, h), rng)

    sheets = [_Sheet("form", page)]
    card = app.card
    if "id_copy" in app.enclosures:
        sheets.append(
            _Sheet(
                "id_copy",
                pages.id_copy(
                    card["holder"],
                    card["address"],
                    card["id_kind"],
                    rng,
                    insurer=card.get("insurer"),
                ),
            )
        )
    if "passbook_copy" in app.enclosures:
        sheets.append(
            _Sheet(
                "passbook_copy",
                pages.passbook_copy(
                    card["branch"],
                    card["account_number"],
                    card["account_holder_kana"],
                    card["account_type"],
                    rng,
                ),
            )
        )
    blank_back = plan.blank_back if plan.blank_back is not None else rng.random() < 0.12
    if blank_back and not single:
        sheets.insert(1, _Sheet("blank", pages.blank_back(page, rng)))
    return spec, app, sheets, findings, extra


def _build_unknown(plan: EnvelopePlan, rng: random.Random, reg: ResidentRegistry) -> list[_Sheet]:
    if plan.kind == "flyer":
        return [_Sheet("flyer", pages.flyer(rng))]
    hh = reg.households[sorted(reg.households)[rng.randrange(len(reg.households))]]
    written = date(2020, 5, rng.randint(8, 28))
    sheets = [_Sheet("cover_letter", pages.cover_letter(hh.head, hh.address, written, rng))]
    if plan.fmt in writers.MULTI_PAGE and rng.random() < 0.3:
        sheets.append(_Sheet("blank", pages.blank_back(sheets[0].image, rng)))
    return sheets


def build_envelope(plan: EnvelopePlan, reg: ResidentRegistry | None = None) -> Envelope:
    """The scan file and truth record of one planned envelope (a pure function of ``plan``)."""
    started = time.process_time()  # CPU time: what one core spends, whatever else runs
    reg = reg or registry()
    rng = random.Random(plan.seed)
    spec: FormSpec | None = None
    app: Application | None = None
    findings: list[dict[str, Any]] = []
    extra: dict[str, Any] = {}
    if plan.kind in UNKNOWN_KINDS:
        sheets = _build_unknown(plan, rng, reg)
    else:
        spec, app, sheets, findings, extra = _build_form(plan, rng, reg)
    if len(sheets) > 1 and plan.fmt not in writers.MULTI_PAGE:
        # the content needed enclosures a one-page format cannot hold: scanned to a PDF
        plan = replace(plan, fmt="pdf")

    # how the pages went through the feeder
    up_rate, r90_rate = plan.rates
    for sheet in sheets:
        if sheet.kind == "form" and plan.upside_down is not None:
            sheet.upside_down = plan.upside_down
        else:
            sheet.upside_down = rng.random() < up_rate
        sideways = rng.random() < r90_rate
        sheet.rotate90 = (sheet.kind == "form" and plan.rotate90) or sideways
    if len(sheets) > 1 and plan.shuffle:
        order = list(range(len(sheets)))
        while order[0] == 0:
            rng.shuffle(order)
        sheets = [sheets[i] for i in order]

    dropout = None
    if spec and spec.dropout_ink_rgb:
        r, g, b = spec.dropout_ink_rgb
        dropout = (r, g, b)
    images, dpis, qualities, page_info = [], [], [], []
    mode: Any = plan.mode
    for sheet in sheets:
        rotation = 180 if sheet.upside_down else 0
        if sheet.rotate90:
            rotation = (rotation + 90) % 360
        if plan.clean:
            settings = replace(scanner.clean_settings(mode, plan.dpi), rotation=rotation)
        else:
            settings = scanner.draw_settings(rng, mode=mode, dpi=plan.dpi, rotation=rotation)
        page_dropout = dropout if sheet.kind in ("form", "blank") else None
        images.append(scanner.scan(sheet.image, settings, page_dropout))
        dpis.append(plan.dpi)
        qualities.append(settings.jpeg_quality)
        page_info.append({"kind": sheet.kind, "rotation": rotation, "skew": settings.skew_deg})
    data = writers.encode(plan.fmt, images, dpis, qualities)  # type: ignore[arg-type]

    generator = {
        "index": plan.index,
        "seed": plan.seed,
        "style": plan.style if spec else "printed",
        "subject": plan.subject,
        "defects": list(plan.defects),
        "format": plan.fmt,
        "scan_mode": plan.mode,
        "dpi": plan.dpi,
        "pages": page_info,
        "clean": plan.clean,
        "qr_damaged": plan.qr_damaged,
        "duplicate_of": plan.duplicate_of,
        "flags": {k: v for k, v in sorted(app.flags.items())} if app else {},
        "note": plan.note,
        **extra,
    }
    if spec is None:
        generator["document"] = plan.kind
    key = app.facts.get("key") if app else None
    truth = record(
        file=plan.file_name,
        data=data,
        pages=len(images),
        spec=spec,
        app=app,
        key=key,
        findings=findings,
        generator=generator,
    )
    return Envelope(plan.file_name, data, truth, time.process_time() - started)


# --------------------------------------------------------------------------- the batch


def _worker_init() -> None:
    import cv2

    cv2.setNumThreads(1)  # one core per worker; the pool provides the parallelism


def _built(plans: Sequence[EnvelopePlan], workers: int) -> Iterator[Envelope]:
    if workers <= 1:
        for plan in plans:
            yield build_envelope(plan)
        return
    # spawn, not fork: a forked child inherits OpenCV's thread pool without its
    # threads and can hang on its first parallel call
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(workers, initializer=_worker_init) as pool:
        yield from pool.imap(build_envelope, plans, chunksize=1)


@dataclass
class BatchReport:
    """What :func:`generate_batch` wrote."""

    out_dir: Path
    files: list[str]
    truth_path: Path
    seconds: float
    envelope_seconds: list[float]
    total_bytes: int

    @property
    def mean_seconds(self) -> float:
        return sum(self.envelope_seconds) / max(1, len(self.envelope_seconds))


def generate_batch(
    out_dir: Path, plans: Sequence[EnvelopePlan], *, workers: int = 1
) -> BatchReport:
    """Build every planned envelope into ``out_dir`` and write ``truth.jsonl`` beside them."""
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    lines, files, times, total = [], [], [], 0
    for env in _built(plans, workers):
        (out_dir / env.file_name).write_bytes(env.data)
        lines.append(dumps(env.truth))
        files.append(env.file_name)
        times.append(env.seconds)
        total += len(env.data)
        log.info(
            "%s: %s, %d pages, %.2f s",
            env.file_name,
            env.truth["decision"],
            env.truth["pages"],
            env.seconds,
        )
    truth_path = out_dir / "truth.jsonl"
    truth_path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return BatchReport(out_dir, files, truth_path, time.perf_counter() - started, times, total)
