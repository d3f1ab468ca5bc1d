"""The OCR engine contract, the factory, and the ONNX recogniser's charset masking."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from ocr import charsets
from ocr.engine import (
    EngineNotInstalledError,
    Recognition,
    UnknownEngineError,
    engine_names,
    get_engine,
    per_crop,
)
from ocr.engines.onnx import (
    CtcLattice,
    OnnxEngine,
    _collapse,
    _which_letter,
    best_path_of_length,
)

HANDWRITING = "/usr/share/fonts/truetype/klee/KleeOne-Regular.ttf"
GOTHIC = "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"


def render(text: str, font: str = HANDWRITING, size: int = 64) -> np.ndarray:
    """``text`` drawn black on white and cut tightly, as the cutter hands crops over."""
    face = ImageFont.truetype(font, size)
    left, top, right, bottom = face.getbbox(text)
    img = Image.new("L", (right - left + 8, bottom - top + 8), 255)
    ImageDraw.Draw(img).text((4 - left, 4 - top), text, font=face, fill=0)
    a = np.asarray(img)
    ys, xs = np.nonzero(a < 128)
    return a[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]


@pytest.fixture(scope="module")
def engine() -> OnnxEngine:
    if not Path(HANDWRITING).is_file():
        pytest.skip("fonts-klee is not installed")
    return OnnxEngine(threads=1)


def test_factory_rejects_unknown_names_and_lists_the_known_ones() -> None:
    with pytest.raises(UnknownEngineError) as err:
        get_engine("abbyy")
    for name in ("onnx", "paddle", "tesseract", "null"):
        assert name in str(err.value)
    assert set(engine_names()) >= {"onnx", "paddle", "tesseract", "null"}


def test_paddle_without_its_package_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    if importlib.util.find_spec("paddleocr") is not None:
        pytest.skip("paddleocr is installed here")
    from ocr.engines import paddle

    with pytest.raises(EngineNotInstalledError) as err:
        paddle.create()
    assert "pip install 'shinsei[paddle]'" in str(err.value)
    assert "SHINSEI_PADDLE_MODEL_DIR" in str(err.value)


def test_an_engine_is_checked_without_being_built(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from ocr import engine
    from ocr.engine import check_engine

    monkeypatch.setattr(engine, "_INSTANCES", {})
    check_engine("onnx")
    assert engine._INSTANCES == {}  # the model was not loaded for the check
    monkeypatch.setenv("SHINSEI_ONNX_REC_MODEL", str(tmp_path / "missing.onnx"))
    with pytest.raises(EngineNotInstalledError, match="missing.onnx"):
        check_engine("onnx")
    with pytest.raises(UnknownEngineError):
        check_engine("no-such-engine")


def test_a_pool_fails_at_once_with_the_install_hint(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from ocr import engine
    from ocr.pipeline import extract_files

    monkeypatch.setattr(engine, "_INSTANCES", {})
    monkeypatch.setenv("SHINSEI_ONNX_REC_MODEL", str(tmp_path / "missing.onnx"))
    with pytest.raises(EngineNotInstalledError, match="pip install rapidocr"):
        list(extract_files([tmp_path / "a.pdf"], workers=2))


def test_null_engine_keeps_the_contract() -> None:
    null = get_engine("null")
    crops = [np.full((20, 40), 255, np.uint8)] * 3
    out = null.recognize(crops, [charsets.DIGITS, None, charsets.KANA])
    assert out == [Recognition("", 0.0, [])] * 3
    with pytest.raises(ValueError):
        null.recognize(crops, [charsets.DIGITS])  # one charset per crop, or one for all


def test_per_crop_spreads_one_charset() -> None:
    assert per_crop("0123", 2) == ["0123", "0123"]
    assert per_crop(None, 1) == [None]


def test_a_kana_field_cannot_return_a_kanji(engine: OnnxEngine) -> None:
    # カ and the kanji 力 look alike; unmasked, the model reads the kanji
    crop = render("カ", GOTHIC)
    free = engine.recognize([crop], None)[0]
    kana = engine.recognize([crop], charsets.KANA)[0]
    assert free.text == "力"
    assert kana.text == "カ"
    # a real kanji in a kana field still comes back as kana only
    for text in ("納", "宮", "力"):
        r = engine.recognize([render(text)], charsets.KANA)[0]
        assert all(ch in charsets.KANA for ch in r.text), r


def test_text_fields_only_hold_jis_x_0213(engine: OnnxEngine) -> None:
    text = charsets.text_charset()
    assert "纳" not in text and "宫" not in text  # simplified Chinese
    assert "納" in text and "宮" in text and "髙" in text
    results = engine.recognize([render("納付"), render("宮本")], text)
    assert [r.text for r in results] == ["納付", "宮本"]


def test_masking_picks_the_best_allowed_class(engine: OnnxEngine) -> None:
    # A made-up model output: 纳 wins every step it is not blank, 納 is second.
    probs = np.full((6, len(engine.classes)), 1e-6, np.float32)
    blank, nano, na = 0, engine._index["纳"][0], engine._index["納"][0]
    probs[[0, 2, 3, 5], blank] = 0.9
    probs[[1, 4], nano] = 0.6
    probs[[1, 4], na] = 0.3
    free = engine.decode(probs, None)
    masked = engine.decode(probs, charsets.text_charset())
    assert free.text == "纳纳"
    assert masked.text == "納納"
    assert all(c > 0.9 for c in masked.char_confidences)  # renormalised over what is allowed


def test_length_constrained_decoding_adds_the_character_a_comb_says_is_there(
    engine: OnnxEngine,
) -> None:
    one, seven = engine._index["1"][0], engine._index["7"][0]
    probs = np.full((6, len(engine.classes)), 1e-6, np.float32)
    # two 1s written close: the middle step is nearly blank, greedy merges them
    probs[0, one], probs[1, one], probs[1, 0], probs[2, one] = 0.9, 0.55, 0.45, 0.9
    probs[3, 0], probs[4, seven], probs[5, 0] = 0.9, 0.9, 0.9
    greedy = engine.decode(probs, charsets.DIGITS)
    exact = engine.decode(probs, charsets.DIGITS, length=3)
    assert greedy.text == "17"
    assert exact.text == "117"
    assert exact.confidence < greedy.confidence  # the model did not see it that way


def test_twins_drawn_alike_share_their_probability(engine: OnnxEngine) -> None:
    # ホーム with the model torn between ー and 一 (the same stroke): the stroke is
    # sure, which of the two its neighbours decide (charsets.settle_twins)
    ho, bar, one, mu = (engine._index[c][0] for c in "ホー一ム")
    probs = np.full((5, len(engine.classes)), 1e-6, np.float32)
    probs[0, ho], probs[1, 0], probs[3, 0], probs[4, mu] = 0.95, 0.95, 0.95, 0.95
    probs[2, bar], probs[2, one] = 0.5, 0.45
    text = engine.decode(probs, charsets.text_charset())
    assert text.text == "ホーム" and text.confidence > 0.9
    alone = probs[1:4].copy()  # the stroke without its neighbours: nothing decides it
    assert engine.decode(alone, charsets.text_charset()).confidence < 0.6
    probs[2, one] = 1e-6
    probs[2, engine._index["二"][0]] = 0.45  # a rival that is not its twin is a doubt
    assert engine.decode(probs, charsets.text_charset()).confidence < 0.6


def test_best_path_of_length_is_none_when_too_short() -> None:
    sub = np.full((2, 3), 1 / 3, np.float32)
    assert best_path_of_length(sub, 3) is None


def test_digits_and_spans(engine: OnnxEngine) -> None:
    r = engine.recognize([render("0781234567")], charsets.DIGITS)[0]
    assert r.text == "0781234567"
    assert r.spans is not None and len(r.spans) == len(r.text)
    centres = [(a + b) / 2 for a, b in r.spans]
    assert centres == sorted(centres) and centres[0] >= 0 and centres[-1] <= 1


def test_tesseract_comparator_keeps_the_charset() -> None:
    try:
        tesseract = get_engine("tesseract")
    except EngineNotInstalledError:
        pytest.skip("tesseract-ocr-jpn is not installed")
    crop = render("0781234567", GOTHIC)
    r = tesseract.recognize([crop], charsets.DIGITS)[0]
    assert r.text and set(r.text) <= set(charsets.DIGITS)
    assert r.text == "0781234567"


def _steps(*rows: dict[int, float]) -> np.ndarray:
    """Probabilities over four classes (blank, 2, 番, 3), the rest of each step on the blank."""
    sub = np.zeros((len(rows), 4))
    for t, row in enumerate(rows):
        for k, p in row.items():
            sub[t, k] = p
        sub[t, 0] = 1.0 - sum(row.values())
    return sub


def test_doubt_is_a_character_the_blank_may_have_dropped() -> None:
    letters = np.array([False, True, True, True])
    path = [1, 0, 1, 0, 2]  # 2 _ 2 _ 番 -> "22番"
    # a 2 trailing into the blank before 番 only lengthens the 2: no doubt
    trailing = _steps({1: 0.99}, {1: 0.01}, {1: 0.99}, {1: 0.3}, {2: 0.99})
    assert _collapse(trailing, path, letters)[2] < 0.05
    # the blank that keeps the two 2s apart nearly was a 2: "2番" was as likely
    merging = _steps({1: 0.99}, {1: 0.4}, {1: 0.99}, {}, {2: 0.99})
    assert _collapse(merging, path, letters)[2] == pytest.approx(0.4)
    # another character nearly written between 2 and 番: "223番"?
    another = _steps({1: 0.99}, {}, {1: 0.99}, {3: 0.3}, {2: 0.99})
    assert _collapse(another, path, letters)[2] == pytest.approx(0.3)


def test_in_a_comb_run_a_character_is_measured_against_the_other_letters() -> None:
    letters = np.array([False, True, True, True])
    # the ink says one character is there: the blank is no rival, another letter is
    faint_but_clear = _steps({2: 0.73})
    assert _which_letter(faint_but_clear, [2], [0.73], [(0, 0)], letters) == [1.0]
    contested = _steps({2: 0.6, 3: 0.3})
    assert _which_letter(contested, [2], [0.6], [(0, 0)], letters)[0] == pytest.approx(2 / 3)
    too_faint = _steps({2: 0.2})
    assert _which_letter(too_faint, [2], [0.2], [(0, 0)], letters) == [0.2]


def _spelled_by(path: tuple[int, ...], classes: list[str]) -> str:
    out, previous = [], 0
    for k in path:
        if k and k != previous:
            out.append(classes[k])
        previous = k
    return "".join(out)


def test_a_lattice_scores_a_text_as_the_sum_of_the_paths_that_spell_it() -> None:
    # every path of 5 steps over blank, a, b, c, enumerated: the forward algorithm's sum
    import itertools

    classes = ["", "a", "b", "c"]
    steps = np.random.default_rng(7).random((5, 4))
    steps /= steps.sum(axis=1, keepdims=True)
    texts = ["", "a", "ab", "ba", "aa", "aba", "abc", "abcab", "x"]
    by_paths = dict.fromkeys(texts, 0.0)
    for path in itertools.product(range(4), repeat=5):
        text = _spelled_by(path, classes)
        if text in by_paths:
            by_paths[text] += float(np.prod([steps[t, k] for t, k in enumerate(path)]))
    lattice = CtcLattice(steps, classes)
    assert np.allclose(lattice.likelihood(texts), [by_paths[t] for t in texts])
    assert lattice.likelihood(["abcabc"])[0] == 0.0  # six letters do not fit in five steps
    assert lattice.peak("b") == pytest.approx(float(steps[:, 2].max()))
    assert lattice.peak("x") == 0.0


def test_the_engine_keeps_a_lattice_only_where_asked(engine: OnnxEngine) -> None:
    crops = [render("神戸"), render("1234")]
    kept, plain = engine.recognize(
        crops, [charsets.text_charset(), charsets.DIGITS], None, [True, False]
    )
    assert plain.lattice is None and kept.lattice is not None
    assert kept.text == "神戸"
    written, other = kept.lattice.likelihood(["神戸", "神田"])
    assert written > 0.5 > 1000 * other
