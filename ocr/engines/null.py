"""The smallest complete engine: it reads nothing.

It shows everything an engine must do (:mod:`ocr.engine`): have a ``name``,
take crops and a charset (one, or one per crop), and return one
:class:`~ocr.engine.Recognition` per crop with no character outside its
charset -- here trivially, since the text is always empty. Choose it with
``--engine null`` to time everything but recognition, or in tests to
check what happens when an engine reads nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ocr.engine import Charset, Recognition, per_crop

NAME = "null"


class NullEngine:
    """Returns an empty reading with confidence 0 for every crop."""

    name = NAME

    def recognize(
        self,
        crops: Sequence[np.ndarray],
        charset: Charset | Sequence[Charset] = None,
        lengths: Sequence[int | None] | None = None,
        lattices: Sequence[bool] | None = None,
    ) -> list[Recognition]:
        per_crop(charset, len(crops))  # the same argument checks as every engine
        return [Recognition("", 0.0, []) for _ in crops]


def create() -> NullEngine:
    return NullEngine()
