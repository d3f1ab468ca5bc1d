"""The OCR engine contract (DESIGN.md "Extension points") and the one factory.

An engine turns field images into text. It is told, for every image, which
characters the field may hold, and must never return a character outside that
set: that is how 納 stops coming out as 纳 in a name and カ as 力 in a kana
field. Everything else -- finding the fields, cutting them, deciding what a
blank is -- happens before the engine is called, so an engine is small.

Write an engine::

    class MyEngine:
        name = "mine"

        def recognize(self, crops, charset=None, lengths=None, lattices=None):
            charsets = per_crop(charset, len(crops))
            return [Recognition(text, conf, [conf] * len(text)) for ...]

    register_engine("mine", lambda: MyEngine())

The complete minimal example is :mod:`ocr.engines.null`.

Built-in engines (:func:`get_engine` by name):

* ``onnx`` (default) -- PaddleOCR's PP-OCR recognition model run directly
  through ONNX Runtime; the model ships in the ``rapidocr`` wheel, so it works
  offline on a CPU.
* ``paddle`` -- the ``paddleocr`` package with a local model folder
  (``pip install 'shinsei[paddle]'``; ``SHINSEI_PADDLE_MODEL_DIR``).
* ``tesseract`` -- Tesseract ``jpn`` (``apt-get install tesseract-ocr-jpn``), a comparator.
* ``null`` -- reads nothing; the example engine and a test double.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple, Protocol, runtime_checkable

import numpy as np

from shinsei.errors import ConfigError, EngineNotInstalledError

__all__ = [
    "DEFAULT_ENGINE",
    "Charset",
    "EngineNotInstalledError",
    "Lattice",
    "OcrEngine",
    "Recognition",
    "UnknownEngineError",
    "engine_names",
    "get_engine",
    "per_crop",
    "register_engine",
]

Charset = str | None
"""The characters a field may hold, as one string of allowed characters;
``None`` allows everything the engine knows. :mod:`ocr.charsets` builds them."""


class Recognition(NamedTuple):
    """What an engine read in one crop.

    ``confidence`` is 0..1 for the whole text (an engine should let one doubtful
    character pull it down: the reviewers' workload is decided on it);
    ``char_confidences`` has one 0..1 value per character of ``text``.
    An empty ``text`` means the engine saw nothing it could read.

    ``spans`` is optional: where each character lies across the crop, as
    ``(start, end)`` fractions of its width, for engines that know. The reader
    uses it to put the space between family and given name into the widest
    gap *between* two characters, never inside one (ハ, 川).
    """

    text: str
    confidence: float
    char_confidences: list[float]
    spans: list[tuple[float, float]] | None = None
    lattice: Lattice | None = None
    """What the engine saw, to score other texts by (:class:`Lattice`); only where asked."""
    doubt: float = 0.0
    """How likely the engine dropped a character between those it read (``confidence``
    is at most ``1 - doubt``); 0 for engines that do not say."""


class Lattice(Protocol):
    """How likely the engine finds any text in one crop, after reading it.

    A closed list (the branches of the bank written) can then choose among
    its names by what the engine saw rather than by what it wrote down: a
    character the engine dropped or doubted still left its trace.
    """

    def likelihood(self, texts: Sequence[str]) -> np.ndarray:
        """For each text, the probability that the crop shows it (0 where it cannot)."""
        ...

    def peak(self, character: str) -> float:
        """The most probability the engine gave ``character`` anywhere in the crop."""
        ...


@runtime_checkable
class OcrEngine(Protocol):
    """A text recogniser for cut field images.

    ``crops`` are 2-D ``uint8`` grayscale images (dark writing on white), one
    line of text each, cut tightly around the ink. ``charset`` is one
    :data:`Charset` for every crop, or a sequence with one per crop. The
    result has one :class:`Recognition` per crop, in order, and no character
    outside its crop's charset. Engines batch the crops as they see fit; a
    caller should pass all crops of a page (or of several pages) in one call.

    ``lengths``, when given, says how many characters each crop holds where
    that is known (``None`` where not): a comb field has one character per
    inked cell. An engine may use it to decode exactly that many characters
    and should lower its confidence when its own reading disagrees; it may
    also ignore it.

    ``lattices``, when given, says which crops' results should carry a
    :class:`Lattice` (a field a closed list may decide). An engine that
    cannot score other texts ignores it.
    """

    name: str

    def recognize(
        self,
        crops: Sequence[np.ndarray],
        charset: Charset | Sequence[Charset] = None,
        lengths: Sequence[int | None] | None = None,
        lattices: Sequence[bool] | None = None,
    ) -> list[Recognition]: ...


def per_crop(charset: Charset | Sequence[Charset], count: int) -> list[Charset]:
    """Spread the ``charset`` argument of :meth:`OcrEngine.recognize` to one per crop."""
    if charset is None or isinstance(charset, str):
        return [charset] * count
    charsets = list(charset)
    if len(charsets) != count:
        raise ValueError(f"{len(charsets)} charsets for {count} crops")
    return charsets


class UnknownEngineError(ConfigError):
    """An engine name that is not registered."""


DEFAULT_ENGINE = "onnx"

_FACTORIES: dict[str, Callable[[], OcrEngine]] = {}
_CHECKS: dict[str, Callable[[], None]] = {}
_INSTANCES: dict[str, OcrEngine] = {}


def register_engine(name: str, factory: Callable[[], OcrEngine]) -> None:
    """Make an engine available to :func:`get_engine` under ``name``."""
    _FACTORIES[name] = factory
    _INSTANCES.pop(name, None)


def _builtin() -> None:
    # Imported lazily: each module imports its heavy package only when built.
    from ocr.engines import null, onnx, paddle, tesseract

    for module in (onnx, paddle, tesseract, null):
        _FACTORIES.setdefault(module.NAME, module.create)
        check = getattr(module, "check", None)
        if check is not None:
            _CHECKS.setdefault(module.NAME, check)


def engine_names() -> list[str]:
    """Every registered engine name."""
    _builtin()
    return sorted(_FACTORIES)


def get_engine(name: str = DEFAULT_ENGINE) -> OcrEngine:
    """The engine called ``name``, built once per process.

    Raises :class:`UnknownEngineError` for a name nobody registered (the message
    lists the known ones) and :class:`EngineNotInstalledError` with the install
    hint when the engine's package or model is missing.
    """
    _known(name)
    if name not in _INSTANCES:
        _INSTANCES[name] = _FACTORIES[name]()
    return _INSTANCES[name]


def check_engine(name: str = DEFAULT_ENGINE) -> None:
    """Raise what :func:`get_engine` would for ``name``, without building the engine
    where the engine can tell cheaply (its package and model are there): a process
    that hands the work to a pool of workers need not load the model itself.
    """
    _known(name)
    check = _CHECKS.get(name)
    if name in _INSTANCES:
        return
    if check is None:
        get_engine(name)
    else:
        check()


def _known(name: str) -> None:
    _builtin()
    if name not in _FACTORIES:
        raise UnknownEngineError(
            f"unknown OCR engine {name!r}; known engines: {', '.join(engine_names())}"
        )
