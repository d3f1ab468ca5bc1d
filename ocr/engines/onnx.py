"""The default engine: PP-OCR's recognition model run directly through ONNX Runtime.

The model (``PP-OCRv6_rec_small.onnx``) ships inside the ``rapidocr`` wheel; its
character list is in the model's metadata (``character``, one per line). Class
0 of the output is the CTC blank, then the list, then a space -- the
convention of rapidocr's ``CTCLabelDecode``. Input preprocessing is
rapidocr's: height 48, ``(x/255 - 0.5) / 0.5``, right-padded with zeros.

Two things differ from rapidocr, both on purpose:

* **Charset masking.** Before the CTC argmax every class outside the crop's
  charset is removed (the blank stays), and probabilities are renormalised
  over what is left. A kana field cannot produce 力, a name cannot produce 纳.
* **No 320-pixel minimum width and width-sorted batches.** Model time is
  proportional to the padded width, and field crops are short; padding every
  crop to 320 px would triple the work.

Confidence: each character's probability is the best renormalised
probability over its CTC run; the crop's confidence is the lowest character
probability, lowered further when a blank step nearly emitted a character (a
possibly dropped character). One doubtful character makes a doubtful field.
Classes that are one mark (a dot drawn as . ・ •) or twins drawn alike (ー/一,
ロ/口: :data:`ocr.charsets.TWINS`) share their probability: the stroke is
sure, and which twin it is its neighbours decide (:func:`ocr.charsets.settle_twins`).
"""

from __future__ import annotations

import importlib.util
import math
import os
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import cv2
import numpy as np

from ocr.charsets import TWINS, jis_level
from ocr.engine import Charset, Recognition, per_crop
from shinsei.errors import EngineNotInstalledError

NAME = "onnx"
MODEL_FILE = "PP-OCRv6_rec_small.onnx"
HEIGHT = 48
STRIDE = 8  # input columns per output time step
MAX_BATCH_PIXELS = 48 * 8000  # one model call's input, in pixels of height 48
PAD_WASTE = 1.08  # a batch may pad to at most this much of its crops' own width
MARGIN = 0.2  # white border added around a tight crop, as a fraction of its height
SAME_MARK = frozenset(".．・･•∙●°:：")
"""Classes a reader takes for one mark: a written dot (:func:`ocr.charsets.tidy_text`
turns any of them between digits into ・)."""
LEVEL_PRIOR = {0: 1.0, 1: 1.0, 2: 0.12, 3: 0.06}
"""Weight of a character by its JIS level (:func:`ocr.charsets.jis_level`): a rare
kanji or an old form (區, 國, 會) must be clearly written to win over a common one."""


def default_model_path() -> Path:
    """The PP-OCR recognition model inside the installed ``rapidocr`` package."""
    override = os.environ.get("SHINSEI_ONNX_REC_MODEL")
    if override:
        return Path(override)
    try:
        root = resources.files("rapidocr") / "models" / MODEL_FILE
    except ModuleNotFoundError:
        raise EngineNotInstalledError(
            "the onnx engine needs the rapidocr wheel (pip install rapidocr onnxruntime)"
        ) from None
    return Path(str(root))


def check() -> None:
    """Raise :class:`EngineNotInstalledError` as building the engine would, without loading it."""
    if importlib.util.find_spec("onnxruntime") is None:
        raise EngineNotInstalledError("the onnx engine needs onnxruntime (pip install onnxruntime)")
    path = default_model_path()
    if not path.is_file():
        raise EngineNotInstalledError(
            f"the PP-OCR recognition model is missing: {path} (pip install rapidocr)"
        )


def threads_from_env() -> int:
    """ONNX Runtime intra-op threads: ``SHINSEI_ORT_THREADS``, else ORT's default (0)."""
    return int(os.environ.get("SHINSEI_ORT_THREADS", "0"))


class OnnxEngine:
    """PP-OCR recognition through ONNX Runtime with per-crop charset masking."""

    name = NAME

    def __init__(self, model_path: Path | None = None, threads: int | None = None) -> None:
        try:
            import onnxruntime as ort
        except ImportError:
            raise EngineNotInstalledError(
                "the onnx engine needs onnxruntime (pip install onnxruntime)"
            ) from None
        path = model_path or default_model_path()
        if not path.is_file():
            raise EngineNotInstalledError(
                f"the PP-OCR recognition model is missing: {path} (pip install rapidocr)"
            )
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads_from_env() if threads is None else threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name
        meta = self.session.get_modelmeta().custom_metadata_map
        # rapidocr's convention: blank first, the dictionary, a space last.
        self.classes: list[str] = ["", *meta["character"].splitlines(), " "]
        self._index: dict[str, list[int]] = {}
        for i, ch in enumerate(self.classes[1:], start=1):
            self._index.setdefault(ch, []).append(i)
        self._masks: dict[str, tuple[np.ndarray, list[str], np.ndarray, np.ndarray]] = {}
        self._sharing: dict[str, dict[str, np.ndarray]] = {}
        self._lattice_columns: dict[str, dict[str, list[int]]] = {}

    # -- charsets ---------------------------------------------------------------

    def allowed_classes(
        self, charset: Charset
    ) -> tuple[np.ndarray, list[str], np.ndarray, np.ndarray]:
        """Class indices a charset allows (blank first), the text each emits, its prior,
        and which are letters (neither the blank nor a space).

        The model writes a gap between words as its last class, an ASCII space;
        a charset with only the full-width space (kana) gets that class as U+3000.
        The prior weighs each character by how common it is (:data:`LEVEL_PRIOR`).
        """
        key = "\x00any" if charset is None else charset
        cached = self._masks.get(key)
        if cached is not None:
            return cached
        if charset is None:
            idx = list(range(len(self.classes)))
            texts = list(self.classes)
        else:
            wanted = set(charset)
            idx, texts = [0], [""]
            for ch in sorted(wanted):
                for i in self._index.get(ch, []):
                    idx.append(i)
                    texts.append(ch)
            space = len(self.classes) - 1
            if " " not in wanted and "\u3000" in wanted:
                idx.append(space)
                texts.append("\u3000")
        prior = np.array(
            [1.0 if charset is None or len(t) != 1 else LEVEL_PRIOR[jis_level(t)] for t in texts],
            np.float32,
        )
        letters = np.array([bool(t) and not t.isspace() for t in texts])
        result = (np.asarray(idx, dtype=np.int64), texts, prior, letters)
        self._masks[key] = result
        return result

    def _columns(self, charset: Charset, texts: list[str]) -> dict[str, list[int]]:
        """:func:`columns_of` a charset's classes, worked out once per charset."""
        key = "\x00any" if charset is None else charset
        cached = self._lattice_columns.get(key)
        if cached is None:
            cached = self._lattice_columns[key] = columns_of(texts)
        return cached

    def _shared(self, charset: Charset, texts: list[str]) -> dict[str, np.ndarray]:
        """For each character that shares its probability, the classes it shares it with."""
        key = "\x00any" if charset is None else charset
        cached = self._sharing.get(key)
        if cached is not None:
            return cached
        groups = [SAME_MARK, *({ch, twin} for ch, twin in TWINS.items())]
        shared: dict[str, np.ndarray] = {}
        for group in groups:
            members = np.array([j for j, t in enumerate(texts) if t in group], np.int64)
            if len({texts[j] for j in members}) > 1:
                for j in members:
                    shared[texts[j]] = members
        self._sharing[key] = shared
        return shared

    # -- preprocessing ----------------------------------------------------------

    @staticmethod
    def prepare(crop: np.ndarray) -> tuple[np.ndarray, tuple[float, float]]:
        """A crop as the model's input (white margin, height 48, normalised, ``[3, 48, w]``),
        and how input columns map back to the crop: ``crop_x = input_x * scale - offset``.
        """
        if crop.ndim == 3:
            crop = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
        h, w = crop.shape[:2]
        if h == 0 or w == 0:
            crop = np.full((HEIGHT, HEIGHT // 2), 255, np.uint8)
            h, w = crop.shape
        m = max(1, round(MARGIN * h))
        crop = cv2.copyMakeBorder(crop, m, m, m, m, cv2.BORDER_CONSTANT, value=255)
        h2, w2 = crop.shape
        width = max(STRIDE, math.ceil(HEIGHT * w2 / h2))
        resized = cv2.resize(crop, (width, HEIGHT), interpolation=cv2.INTER_AREA)
        norm = resized.astype(np.float32) * (2 / 255) - 1.0
        return np.broadcast_to(norm, (3, HEIGHT, width)), (w2 / width, float(m))

    @staticmethod
    def batches(widths: Sequence[int]) -> list[list[int]]:
        """Crop indices grouped into model calls of similar width (little padding)."""
        order = sorted(range(len(widths)), key=lambda i: widths[i])
        out: list[list[int]] = []
        current: list[int] = []
        own = 0
        for i in order:
            w = widths[i]
            padded = w * (len(current) + 1)  # sorted: this crop is the widest so far
            if current and (padded > PAD_WASTE * (own + w) or padded * HEIGHT > MAX_BATCH_PIXELS):
                out.append(current)
                current, own = [], 0
            current.append(i)
            own += w
        if current:
            out.append(current)
        return out

    # -- recognition --------------------------------------------------------------

    def probabilities(self, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Per-time-step class probabilities ``[T, classes]`` of each prepared input."""
        results: list[np.ndarray] = [np.empty(0)] * len(inputs)
        widths = [x.shape[2] for x in inputs]
        for batch in self.batches(widths):
            width = max(widths[i] for i in batch)
            width = math.ceil(width / STRIDE) * STRIDE
            x = np.zeros((len(batch), 3, HEIGHT, width), np.float32)
            for row, i in enumerate(batch):
                x[row, :, :, : widths[i]] = inputs[i]
            probs = self.session.run(None, {self.input_name: x})[0]
            for row, i in enumerate(batch):
                steps = max(1, math.ceil(widths[i] / STRIDE))
                results[i] = probs[row, :steps]
        return results

    def masked(self, probs: np.ndarray, charset: Charset) -> tuple[np.ndarray, list[str]]:
        """Per-step probabilities of the classes ``charset`` allows (weighed by their
        prior, summing to 1 at each step), and the text each class emits.
        """
        idx, texts, prior, _ = self.allowed_classes(charset)
        sub = probs[:, idx] * prior
        total = sub.sum(axis=1, keepdims=True)
        return sub / np.maximum(total, 1e-12), texts

    def decode(self, probs: np.ndarray, charset: Charset, length: int | None = None) -> Recognition:
        """CTC decoding restricted to ``charset``; exactly ``length`` characters when given."""
        sub, texts = self.masked(probs, charset)
        letters = self.allowed_classes(charset)[3]
        best = sub.argmax(axis=1)
        path = [int(k) for k in best]
        # A space is never "dropped": word gaps are measured on the ink (ocr.fields).
        chars, confs, doubt, steps = _collapse(sub, path, letters)
        if length is not None and len(chars) == length:
            confs = _which_letter(sub, chars, confs, steps, letters)
        elif length is not None and length > 0:
            constrained = best_path_of_length(sub, length)
            if constrained is not None:
                c_path, ratio = constrained
                chars, confs, _, steps = _collapse(sub, c_path, letters)
                # the model's own best reading had another length: doubt the result
                doubt = max(doubt, 1.0 - ratio)
        text = "".join(texts[k] for k in chars)
        if not chars:
            return Recognition("", float(sub[:, 0].min()) if len(sub) else 0.0, [], [])
        # marks that mean the same (a dot drawn as . ・ •) share their probability, and so
        # do twins drawn alike (ー/一, ロ/口): their neighbours decide which (settle_twins).
        # A twin alone has no neighbours to decide it: a lone stroke stays in doubt.
        shared = self._shared(charset, texts)
        alone = sum(1 for k in chars if letters[k]) < 2
        for n, k in enumerate(chars):
            members = shared.get(texts[k])
            if members is not None and not (alone and texts[k] in TWINS):
                a, b = steps[n]
                confs[n] = max(confs[n], float(sub[a : b + 1, members].sum(axis=1).max()))
        sure = [c for k, c in zip(chars, confs, strict=True) if letters[k]] or [1.0]
        confidence = min(min(sure), 1.0 - doubt)
        # spans in time steps here; recognize() turns them into fractions of the crop
        return Recognition(
            text, confidence, confs, [(float(a), float(b)) for a, b in steps], doubt=doubt
        )

    def recognize(
        self,
        crops: Sequence[np.ndarray],
        charset: Charset | Sequence[Charset] = None,
        lengths: Sequence[int | None] | None = None,
        lattices: Sequence[bool] | None = None,
    ) -> list[Recognition]:
        """See :class:`ocr.engine.OcrEngine`."""
        charsets = per_crop(charset, len(crops))
        wanted = list(lengths) if lengths is not None else [None] * len(crops)
        keep = list(lattices) if lattices is not None else [False] * len(crops)
        if not crops:
            return []
        prepared = [self.prepare(c) for c in crops]
        probs = self.probabilities([x for x, _ in prepared])
        out = []
        for p, (_, (scale, offset)), crop, cs, n, lattice in zip(
            probs, prepared, crops, charsets, wanted, keep, strict=True
        ):
            r = self.decode(p, cs, n)
            if lattice:
                steps, texts = self.masked(p, cs)
                r = r._replace(lattice=CtcLattice(steps, self._columns(cs, texts)))
            width = float(crop.shape[1]) or 1.0
            spans = [
                (
                    max(0.0, (a * STRIDE * scale - offset) / width),
                    min(1.0, ((b + 1) * STRIDE * scale - offset) / width),
                )
                for a, b in r.spans or []
            ]
            out.append(r._replace(spans=spans))
        return out


def _collapse(
    sub: np.ndarray, path: list[int], letters: np.ndarray
) -> tuple[list[int], list[float], float, list[tuple[int, int]]]:
    """A CTC path → emitted classes, each one's best probability over its run, the doubt,
    and each character's first and last time step.

    The doubt is the strongest probability of a ``letters`` class at a step
    the path spent on the blank, where taking it would change the text: a
    character the reading may have dropped. The characters on either side of
    the blank do not count there (taking one only lengthens its run) -- except
    when both sides are the same character (the 2s of 22), which the blank
    keeps apart: then the doubt is that the whole blank run is that character.
    """
    chars: list[int] = []
    confs: list[float] = []
    steps: list[tuple[int, int]] = []
    prev = 0
    for t, k in enumerate(path):
        p = float(sub[t, k])
        if k == 0:
            pass
        elif k != prev:
            chars.append(k)
            confs.append(p)
            steps.append((t, t))
        else:
            confs[-1] = max(confs[-1], p)
            steps[-1] = (steps[-1][0], t)
        prev = k
    return chars, confs, _doubt(sub, path, letters), steps


#: Below this probability a character is too faint for its rivals to be measured against.
WHICH_MIN = 0.3


def _which_letter(
    sub: np.ndarray,
    chars: list[int],
    confs: list[float],
    steps: list[tuple[int, int]],
    letters: np.ndarray,
) -> list[float]:
    """Each character's probability against the other letters only, not the blank.

    For a comb run whose reading has as many characters as the run has inked
    cells: that a character is there the ink already says, so what is left to
    doubt is which one it is. (A 4 at 0.73 with the blank at 0.27 and every
    other digit near 0 is a sure 4.)
    """
    out = []
    for k, conf, (a, b) in zip(chars, confs, steps, strict=True):
        if conf < WHICH_MIN or not letters[k]:
            out.append(conf)
            continue
        run = sub[a : b + 1]
        rivals = np.where(letters, run, 0.0)
        rivals[:, k] = 0.0
        own = run[:, k]
        out.append(float((own / np.maximum(own + rivals.max(axis=1), 1e-12)).max()))
    return out


def _doubt(sub: np.ndarray, path: list[int], letters: np.ndarray) -> float:
    """See :func:`_collapse`.

    Each run of blanks is read as a slice of one copy of ``sub`` in which
    only letters are left, its neighbours zeroed there (the runs are apart,
    so no other run reads those rows): 4-5x faster than a masked copy per
    run on a text field's 15,000 classes, the same doubt.
    """
    if not letters.any():
        return 0.0
    doubt = 0.0
    only_letters = np.where(letters, sub, 0.0)
    count = int(np.count_nonzero(letters))
    t, n = 0, len(path)
    while t < n:
        if path[t] != 0:
            t += 1
            continue
        start = t
        while t + 1 < n and path[t + 1] == 0:
            t += 1
        end, t = t, t + 1
        before = path[start - 1] if start > 0 else 0
        after = path[end + 1] if end + 1 < n else 0
        sides = list({before, after} - {0})
        run = only_letters[start : end + 1]
        run[:, sides] = 0.0
        if count > sum(1 for k in sides if letters[k]):  # a letter other than the sides
            doubt = max(doubt, float(run.max()))
        if before and before == after:
            doubt = max(doubt, float(sub[start : end + 1, before].min()))
    return doubt


def columns_of(texts: list[str]) -> dict[str, list[int]]:
    """Each character's columns among classes that emit ``texts``."""
    columns: dict[str, list[int]] = {}
    for j, text in enumerate(texts):
        if text:
            columns.setdefault(text, []).append(j)
    return columns


class CtcLattice:
    """A crop's per-step character probabilities, to score any text by
    (:class:`ocr.engine.Lattice`): the CTC forward algorithm over all the ways
    the model's time steps can spell the text (blanks between, runs of one
    character), summed.
    """

    def __init__(self, steps: np.ndarray, texts: list[str] | dict[str, list[int]]) -> None:
        self.steps = steps
        self.columns = texts if isinstance(texts, dict) else columns_of(texts)
        """Each character's columns of ``steps`` (a charset's, shared by its lattices)."""

    def _emission(self, ch: str) -> np.ndarray:
        columns = self.columns.get(ch)
        if not columns:
            return np.zeros(self.steps.shape[0])
        return self.steps[:, columns].sum(axis=1)

    def peak(self, character: str) -> float:
        """See :meth:`ocr.engine.Lattice.peak`."""
        emission = self._emission(character)
        return float(emission.max()) if len(emission) else 0.0

    def likelihood(self, texts: Sequence[str]) -> np.ndarray:
        """See :meth:`ocr.engine.Lattice.likelihood`; all texts at once."""
        n, steps = len(texts), self.steps.shape[0]
        if n == 0 or steps == 0:
            return np.zeros(n)
        states = 2 * max(len(t) for t in texts) + 1  # blank, c1, blank, c2, ..., blank
        emit = np.zeros((n, states, steps))
        emit[:, 0::2, :] = self.steps[:, 0]
        skip = np.zeros((n, states), bool)  # may jump over the blank from two states back
        emissions: dict[str, np.ndarray] = {}
        for i, text in enumerate(texts):
            for j, ch in enumerate(text):
                if ch not in emissions:
                    emissions[ch] = self._emission(ch)
                emit[i, 2 * j + 1] = emissions[ch]
                skip[i, 2 * j + 1] = j > 0 and text[j - 1] != ch
            emit[i, 2 * len(text) + 1 :] = 0.0
        alpha = np.zeros((n, states))
        alpha[:, 0] = emit[:, 0, 0]
        if states > 1:
            alpha[:, 1] = emit[:, 1, 0]
        log_scale = np.zeros(n)
        for t in range(1, steps):
            step = alpha.copy()
            step[:, 1:] += alpha[:, :-1]
            step[:, 2:] += np.where(skip[:, 2:], alpha[:, :-2], 0.0)
            alpha = step * emit[:, :, t]
            total = alpha.sum(axis=1)
            total = np.where(total > 0, total, 1.0)
            alpha /= total[:, None]
            log_scale += np.log(total)
        rows = np.arange(n)
        ends = np.array([2 * len(t) for t in texts])  # the last blank state
        last = alpha[rows, ends] + np.where(ends > 0, alpha[rows, np.maximum(ends - 1, 0)], 0.0)
        return np.exp(log_scale) * last


TOP_K = 6


def best_path_of_length(sub: np.ndarray, length: int) -> tuple[list[int], float] | None:
    """The most probable CTC path that emits exactly ``length`` characters.

    Viterbi over (characters emitted, current class), each step limited to its
    :data:`TOP_K` classes (the blank always among them). Returns the path and
    its probability relative to the unconstrained best path, ``None`` when no
    path of that length exists (fewer steps than characters).
    """
    steps = sub.shape[0]
    if length > steps:
        return None
    logp = np.log(np.maximum(sub, 1e-12))
    cands = []
    for t in range(steps):
        top = np.argpartition(-sub[t], min(TOP_K, sub.shape[1] - 1))[:TOP_K].tolist()
        if 0 not in top:
            top.append(0)
        cands.append(top)
    # state: (emitted, class) -> (score, backpointer index into history)
    NEG = -1e18
    history: list[dict[tuple[int, int], tuple[float, tuple[int, int] | None]]] = []
    states: dict[tuple[int, int], tuple[float, tuple[int, int] | None]] = {}
    for k in cands[0]:
        n = 0 if k == 0 else 1
        if n <= length:
            states[(n, k)] = (float(logp[0, k]), None)
    history.append(states)
    for t in range(1, steps):
        nxt: dict[tuple[int, int], tuple[float, tuple[int, int] | None]] = {}
        remaining = steps - t  # steps left including t
        for (n, prev), (score, _) in states.items():
            for k in cands[t]:
                m = n if (k == 0 or k == prev) else n + 1
                if m > length or length - m > remaining - 1:
                    continue
                s = score + float(logp[t, k])
                if s > nxt.get((m, k), (NEG, None))[0]:
                    nxt[(m, k)] = (s, (n, prev))
        states = nxt
        history.append(states)
    finals = [(v[0], key) for key, v in states.items() if key[0] == length]
    if not finals:
        return None
    score, key = max(finals)
    path = [key[1]]
    back = history[-1][key][1]
    for t in range(steps - 2, -1, -1):
        assert back is not None
        path.append(back[1])
        back = history[t][back][1]
    path.reverse()
    greedy = float(logp.max(axis=1).sum())
    return path, float(np.exp(min(0.0, score - greedy)))


def create() -> OnnxEngine:
    return OnnxEngine()
