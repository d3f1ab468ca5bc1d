"""Extraction of one envelope, and of a batch: the stage API of ``ocr/``.

:func:`extract_file` reads one scan file into a :class:`shinsei.model.Document`;
:func:`extract_files` does a batch, in worker processes when asked, and
yields the documents in input order. Both take plain, picklable inputs, so a
Prefect task can call them as they are.

Per document: load the pages (:mod:`ocr.io`) → identify each page and align
the form page (:mod:`ocr.identify`) → sort the other pages by their layout
(:mod:`ocr.attachments`) → read marks and cut the writing (:mod:`ocr.fields`)
→ recognise every crop of the batch in one engine call (the enclosures'
title lines with the fields) → finish the values, take pre-printed ones from
the registry (:mod:`ocr.preprinted`).

Errors become outcomes here, at one boundary: a file that cannot be read is
a document with ``error`` naming the file and the problem; an unexpected
fault in one document is logged with its traceback and recorded the same
way, and the batch goes on.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import traceback
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from forms.loader import load_forms
from forms.schema import Kind
from intake.intake import sha256_file
from ocr import preprinted
from ocr.attachments import TitleCheck, sort_page
from ocr.charsets import text_charset
from ocr.confidence import status_for
from ocr.corroborate import LATTICE_LISTS, corroborate
from ocr.engine import DEFAULT_ENGINE, Recognition, check_engine, get_engine
from ocr.fields import PagePlan, finish_fields, plan_fields
from ocr.identify import PageReading, identify_page
from ocr.io import Page, probe, read_pages
from ocr.preprocess import dropout_index
from ocr.templates import Template, template
from shinsei.errors import BadInputError, ConfigError
from shinsei.model import Attachment, DocState, Document, FieldValue

log = logging.getLogger(__name__)

CHUNK = 4
"""Documents a worker plans before one recognition call (their crops share batches)."""


@dataclass
class Options:
    """How to extract: plain values, so they cross process boundaries."""

    engine: str = DEFAULT_ENGINE
    crops_dir: str | None = None
    """Save every field's crop under this folder (relative paths land in ``FieldValue.crop``)."""
    page_dir: str | None = None
    """Save the aligned form page under this folder."""
    overlays_dir: str | None = None
    """Write the aligned page with every region boxed and its reading drawn beside it."""
    forms: tuple[str, ...] | None = None
    """Restrict identification to these form ids (default: every form)."""


@dataclass
class Plan:
    """One document between cutting and recognition."""

    doc: Document
    tpl: Template | None = None
    reading: PageReading | None = None
    page: Page | None = None
    fields: PagePlan | None = None
    household_key: str | None = None
    readings: list[PageReading] = field(default_factory=list)
    titles: list[tuple[PageReading, TitleCheck]] = field(default_factory=list)
    """Enclosures whose title lines, read with the field crops, decide their kind."""


def _forms(options: Options) -> dict[str, Template]:
    ids = options.forms or tuple(load_forms())
    return {fid: template(fid) for fid in ids}


def plan_document(path: Path, options: Options, document_id: str | None = None) -> Plan:
    """Load, identify, align, read the marks and cut the writing of one file."""
    doc = Document(id=document_id or _file_id(path), file=str(path))
    plan = Plan(doc)
    try:
        info = probe(path)
        pages = read_pages(path, info)
    except BadInputError as exc:
        doc.error, doc.state = str(exc), DocState.FAILED
        return plan
    doc.pages = len(pages)
    forms = _forms(options)
    for page in pages:
        reading = identify_page(page, forms)
        plan.readings.append(reading)
        if reading.kind == "form" and plan.reading is None:
            plan.reading, plan.page = reading, page
    for page, reading in zip(pages, plan.readings, strict=True):
        if reading is plan.reading:
            continue
        if reading.kind in ("other", "form"):
            kind = sort_page(page, reading)
            if isinstance(kind, TitleCheck):
                plan.titles.append((reading, kind))
            else:
                reading.kind = kind
    doc.attachments = _attachments(plan.readings)
    form_reading = plan.reading
    if form_reading is None or form_reading.form_id is None:
        doc.state = DocState.UNKNOWN
        unusable = [r for r in plan.readings if r.kind == "unusable"]
        if unusable and len(unusable) == len(plan.readings):
            doc.error = f"{path}: page {unusable[0].number}: {unusable[0].problem}"
        return plan
    doc.form_id = form_reading.form_id
    doc.form_page = form_reading.number
    tpl = forms[form_reading.form_id]
    plan.tpl = tpl
    if form_reading.alignment is None or not form_reading.alignment.ok:
        # A form page that cannot be aligned is not read blindly.
        rough = form_reading.alignment
        doc.alignment_residual = None if rough is None else round(rough.residual, 3)
        doc.fields = {
            f.id: FieldValue(f.id, None, 0.0, "ocr", status="review", flags=[])
            for f in tpl.spec.fields
        }
        doc.state = DocState.EXTRACTED
        return plan
    doc.alignment_residual = round(form_reading.alignment.residual, 3)
    skip: set[str] = set()
    hh = preprinted.household(form_reading.qr_key)
    if hh is not None:
        plan.household_key = form_reading.qr_key
        keys = set(tpl.spec.key_fields)
        skip = {f.id for f in preprinted.registry_fields(tpl.spec) if f.id not in keys}
    assert plan.page is not None
    plan.fields = plan_fields(field_image(plan.page, tpl), form_reading.alignment, tpl, skip=skip)
    if not (options.crops_dir or options.page_dir or options.overlays_dir):
        plan.page = None  # free the page image early
    return plan


def field_image(page: Page, tpl: Template) -> np.ndarray:
    """What fields are cut from: the drop-out channel of a colour scan of a drop-out
    form (its printed lines vanish, faint writing stays), else the luminance.
    """
    if tpl.spec.dropout_ink_rgb is not None:
        channel = page.channel(dropout_index(tpl.spec.dropout_ink_rgb))
        if channel is not None:
            return channel
    return page.gray


def _file_id(path: Path) -> str:
    try:
        return sha256_file(path)
    except OSError:
        return ""


def _attachments(readings: list[PageReading]) -> list[Attachment]:
    out: list[Attachment] = []
    for r in readings:
        if r.kind in ("id_copy", "passbook_copy") and r.kind not in out:
            out.append(r.kind)
    return out


def recognize_plans(plans: Sequence[Plan], engine_name: str) -> list[list[Recognition]]:
    """Recognise every crop of every plan in one engine call; field results per plan.

    The enclosures' title lines (:class:`ocr.attachments.TitleCheck`) ride in
    the same call; their pages' kinds and the documents' attachments are
    settled here.
    """
    crops, charsets, lengths, lattices = [], [], [], []
    owners: list[tuple[int, int | None]] = []  # (plan, title check or None for a field)
    titles = text_charset()
    for i, plan in enumerate(plans):
        if plan.fields is not None and plan.tpl is not None:
            listed = {f.id for f in plan.tpl.spec.fields if f.confirm_by in LATTICE_LISTS}
            for seg in plan.fields.segments:
                crops.append(seg.crop)
                charsets.append(seg.charset)
                lengths.append(seg.length)
                lattices.append(seg.field_id in listed)
                owners.append((i, None))
        for t, (_, check) in enumerate(plan.titles):
            crops.extend(check.crops)
            charsets.extend([titles] * len(check.crops))
            lengths.extend([None] * len(check.crops))
            lattices.extend([False] * len(check.crops))
            owners.extend([(i, t)] * len(check.crops))
    out: list[list[Recognition]] = [[] for _ in plans]
    read: list[list[list[str]]] = [[[] for _ in plan.titles] for plan in plans]
    engine = get_engine(engine_name)
    results = engine.recognize(crops, charsets, lengths, lattices) if crops else []
    for (owner, title), result in zip(owners, results, strict=True):
        if title is None:
            out[owner].append(result)
        else:
            read[owner][title].append(result.text)
    for plan, texts in zip(plans, read, strict=True):
        for (reading, check), lines in zip(plan.titles, texts, strict=True):
            reading.kind = check.settle(lines)
        if plan.titles:
            plan.doc.attachments = _attachments(plan.readings)
    return out


def finish_document(plan: Plan, results: list[Recognition], options: Options) -> Document:
    """Values from the recognised crops, the registry's pre-print, the key, the outputs."""
    doc = plan.doc
    if plan.fields is None or plan.tpl is None or plan.reading is None:
        return doc
    tpl, reading = plan.tpl, plan.reading
    values = finish_fields(plan.fields, results)
    _preprinted(plan, values)
    _name_glyphs(tpl, values)
    seen = {
        seg.field_id: r
        for seg, r in zip(plan.fields.segments, results, strict=True)
        if r.lattice is not None
    }
    corroborate(tpl.spec, values, seen)
    for f in tpl.spec.fields:
        if f.kind is Kind.PREPRINTED and not f.source and f.id not in values:
            values[f.id] = _qr_field(f.id, reading.qr_text, values, tpl.spec.key_fields)
    doc.fields = {f.id: values[f.id] for f in tpl.spec.fields if f.id in values}
    for key_field in tpl.spec.key_fields:
        value = doc.value(key_field)
        if value:
            doc.key = str(value)
            break
    doc.state = DocState.EXTRACTED
    if options.crops_dir or options.page_dir or options.overlays_dir:
        from ocr.outputs import write_outputs

        write_outputs(plan, options)
    return doc


def _qr_field(
    field_id: str, qr_text: str | None, values: dict[str, FieldValue], key_fields: list[str]
) -> FieldValue:
    """The QR code itself (its payload is the value).

    An unreadable QR code needs a person only when nothing else on the form
    says whose it is: when the printed applicant number was read, checked
    and found in the registry, the code is just damaged (``unreadable``).
    """
    if qr_text is not None:
        return FieldValue(field_id, qr_text, 1.0, "preprinted", raw=qr_text, status="ok")
    keys = [values[k] for k in key_fields if k in values and values[k].value]
    key_conf = max((k.confidence for k in keys if k.status == "ok"), default=0.0)
    status = status_for(key_conf, blank=True)
    return FieldValue(field_id, None, key_conf, "preprinted", status=status, flags=["unreadable"])


def _preprinted(plan: Plan, values: dict[str, FieldValue]) -> None:
    """Pre-printed fields from the registry, once the applicant number is known."""
    assert plan.tpl is not None
    fields = preprinted.registry_fields(plan.tpl.spec)
    if not fields:
        return
    keys = [f for f in fields if f.id in plan.tpl.spec.key_fields]
    key_field = keys[0] if keys else None
    read = values.get(key_field.id) if key_field else None
    qr_key = plan.household_key
    key, key_conf, key_flags = None, 0.0, []
    if qr_key is not None:
        key, key_conf = qr_key, 1.0
        if read is not None and read.value not in (None, qr_key):
            # the printed number does not say what the QR code says
            key_conf, key_flags = 0.5, ["qr_mismatch"]
    elif (
        read is not None
        and isinstance(read.value, str)
        and preprinted.luhn_ok(read.value)
        and preprinted.household(read.value) is not None
    ):
        key = read.value
        # Luhn catches every single-digit error and most transpositions
        key_conf = 1.0 - (1.0 - read.confidence) * 0.1
    hh = preprinted.household(key)
    if hh is None:
        # neither QR nor comb gives a household: keep what OCR read, for review
        for f in fields:
            fv = values.get(f.id)
            if fv is not None and fv.status == "ok":
                fv.status = "review"
        return
    for f in fields:
        value = preprinted.registry_value(f, hh)
        if key_field is not None and f.id == key_field.id:
            status = status_for(key_conf, blank=False, flagged=bool(key_flags))
            raw = read.raw if read is not None else key
            values[f.id] = FieldValue(
                f.id, key, key_conf, "preprinted", raw=raw, status=status, flags=key_flags
            )
            continue
        values[f.id] = FieldValue(
            f.id,
            value,
            1.0,
            "preprinted",
            raw=None if value is None else str(value),
            status="ok" if value is not None else "missing",
        )


def _name_glyphs(tpl: Template, values: dict[str, FieldValue]) -> None:
    """The form's resident's names in the registry's glyphs (:func:`preprinted.registry_glyphs`)."""
    member = preprinted.registry_member({k: v.value for k, v in values.items()})
    if member is None:
        return
    for spec in tpl.spec.fields:
        fv = values.get(spec.id)
        if spec.normalize == "name" and fv is not None and isinstance(fv.value, str):
            spelled = preprinted.registry_glyphs(fv.value, member)
            if spelled is not None:
                fv.value = spelled


def _failed(path: Path, document_id: str | None, exc: BaseException) -> Document:
    log.error("extraction of %s failed:\n%s", path, traceback.format_exc())
    doc = Document(id=document_id or _file_id(path), file=str(path))
    doc.error = f"{path}: internal error during extraction ({type(exc).__name__}: {exc})"
    doc.state = DocState.FAILED
    return doc


def extract_batch(
    paths: Sequence[Path], options: Options, ids: Sequence[str | None] | None = None
) -> list[Document]:
    """Extract several files with one recognition call for all their crops."""
    ids = list(ids) if ids is not None else [None] * len(paths)
    plans: list[Plan | Document] = []
    for path, doc_id in zip(paths, ids, strict=True):
        try:
            plans.append(plan_document(Path(path), options, doc_id))
        except ConfigError:
            raise
        except Exception as exc:  # one bad document never stops the batch
            plans.append(_failed(Path(path), doc_id, exc))
    live = [p for p in plans if isinstance(p, Plan)]
    results = recognize_plans(live, options.engine)
    by_plan = {id(p): r for p, r in zip(live, results, strict=True)}
    out: list[Document] = []
    for path, doc_id, item in zip(paths, ids, plans, strict=True):
        if isinstance(item, Document):
            out.append(item)
            continue
        try:
            out.append(finish_document(item, by_plan[id(item)], options))
        except ConfigError:
            raise
        except Exception as exc:
            out.append(_failed(Path(path), doc_id, exc))
    return out


def extract_file(
    path: Path | str,
    *,
    document_id: str | None = None,
    engine: str = DEFAULT_ENGINE,
    crops_dir: str | Path | None = None,
    keep_page_image: str | Path | None = None,
    overlays_dir: str | Path | None = None,
) -> Document:
    """Read one scan file into a :class:`Document` (never raises for a bad file).

    ``crops_dir`` / ``keep_page_image``: folders to save the field crops and the
    aligned form page in (off by default, for speed). ``overlays_dir``: write
    the overlay image there.
    """
    options = Options(
        engine=engine,
        crops_dir=str(crops_dir) if crops_dir else None,
        page_dir=str(keep_page_image) if keep_page_image else None,
        overlays_dir=str(overlays_dir) if overlays_dir else None,
    )
    return extract_batch([Path(path)], options, [document_id])[0]


# -- worker processes -------------------------------------------------------------


def init_worker(engine: str, threads: int) -> None:
    """Prepare a worker process: ``threads`` per library, the model and forms loaded once."""
    os.environ["SHINSEI_ORT_THREADS"] = str(threads)
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    import cv2

    cv2.setNumThreads(threads)  # one core per worker: the pool is the parallelism
    get_engine(engine)  # load the model once per worker
    for tpl_id in load_forms():
        template(tpl_id)
    from shinsei.residents import registry

    registry()


def _work(args: tuple[list[str], Options]) -> list[dict[str, object]]:
    paths, options = args
    return [d.to_dict() for d in extract_batch([Path(p) for p in paths], options)]


def worker_pool(workers: int, engine: str = DEFAULT_ENGINE) -> ProcessPoolExecutor:
    """A process pool whose workers each load the model, templates and registry once.

    Workers are spawned, not forked: a fork of a process that already runs
    threads (Prefect's event loop, a browser driver, OpenCV's own pool) can
    inherit a lock held by one of them and hang in the worker's first OpenCV call.
    """
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=init_worker,
        initargs=(engine, 1),
    )


def guided_chunks(files: list[str], chunk: int, workers: int, smallest: int = 1) -> list[list[str]]:
    """``files`` in groups of ``chunk``, smaller towards the end (guided scheduling).

    A group is at most the remaining files shared out twice over the workers,
    so the last groups are of ``smallest`` files and no worker finishes a whole
    group while the others wait.
    """
    out, at = [], 0
    while at < len(files):
        size = max(smallest, 1, min(chunk, math.ceil((len(files) - at) / (2 * workers))))
        out.append(files[at : at + size])
        at += size
    return out


def extract_files(
    paths: Iterable[Path | str],
    *,
    workers: int = 1,
    options: Options | None = None,
    chunk: int = CHUNK,
    pool: ProcessPoolExecutor | None = None,
) -> Iterator[Document]:
    """Extract every file, yielding documents in input order.

    ``workers > 1`` runs a process pool (or uses ``pool``, kept warm by the
    caller, see :func:`worker_pool`); each worker loads the model once and runs
    ONNX Runtime on one thread, so the workers do not fight over cores.
    """
    options = options or Options()
    files = [str(p) for p in paths]
    if workers <= 1 and pool is None:
        get_engine(options.engine)  # fail early with the install hint
        for i in range(0, len(files), chunk):
            yield from extract_batch([Path(p) for p in files[i : i + chunk]], options)
        return
    chunks = guided_chunks(files, chunk, workers)
    check_engine(options.engine)  # fail here, with the install hint, not in every worker
    own = pool is None
    executor = pool or worker_pool(workers, options.engine)
    try:
        for docs in executor.map(_work, [(group, options) for group in chunks]):
            for data in docs:
                yield Document.from_dict(data)
    finally:
        if own:
            executor.shutdown()


__all__ = [
    "Options",
    "extract_batch",
    "extract_file",
    "extract_files",
    "guided_chunks",
    "worker_pool",
]
