"""The optional nlpaug engine: determinism, script refusal, restored global RNG state, missing nlpaug."""
from __future__ import annotations

import json
import random
import sys

import numpy as np
import pytest
from _util import run_cli

from harness.errors import ConfigError
from harness.perturbation import PERTURBATIONS, make_perturbation
from harness.rng import derive_rng
from harness.text import graphemes, ill_formed, nfc

IDS = ("nlpaug.keyboard.v1", "nlpaug.ocr.v1", "nlpaug.random_char.v1")
SPACED = ("nlpaug.keyboard.v1", "nlpaug.random_char.v1")  # the engines with more than Latin
EN = "The quick brown fox jumps over the lazy dog near 10 old Oregon barns."
RU = "Я знаю много людей, у которых нет прав на землю."


def _needs_nlpaug() -> None:
    pytest.importorskip("nlpaug.augmenter.char")


def _run(pid: str, text: str, lang: str, severity: float = 0.5, seed: int = 0, **params):
    p = make_perturbation(pid, params)
    return p.perturb(nfc(text), severity, derive_rng(seed, pid, severity, "ex-1", "text"), lang)


def _numpy_state_equal(a, b) -> bool:
    return a[0] == b[0] and np.array_equal(a[1], b[1]) and a[2:] == b[2:]


def test_registered_without_importing_nlpaug():
    assert set(IDS) <= set(PERTURBATIONS.names())
    for pid in IDS:
        cls = PERTURBATIONS.get(pid)
        assert cls.family == "nlpaug" and cls.requires == ("nlpaug",)


@pytest.mark.parametrize("pid", IDS)
def test_same_keys_same_output_other_seeds_differ(pid):
    _needs_nlpaug()
    first = _run(pid, EN, "en")
    assert first.applied and first.text != EN
    assert _run(pid, EN, "en") == first
    assert len({_run(pid, EN, "en", seed=s).text for s in range(12)}) > 1


@pytest.mark.parametrize("pid", IDS)
def test_output_does_not_depend_on_the_global_rng_and_restores_it(pid):
    _needs_nlpaug()
    random.seed(1)
    np.random.seed(1)
    py_before, np_before = random.getstate(), np.random.get_state()
    a = _run(pid, EN, "en")
    assert random.getstate() == py_before and _numpy_state_equal(np.random.get_state(), np_before)
    random.seed(2)
    np.random.seed(2)
    assert _run(pid, EN, "en") == a


def test_global_state_is_restored_when_nlpaug_raises(monkeypatch):
    from attacks.nlpaug_engine._engine import seeded_global_rng

    py_before, np_before = random.getstate(), np.random.get_state()
    with pytest.raises(RuntimeError), seeded_global_rng(123):
        random.random()
        np.random.random()
        raise RuntimeError("boom")
    assert random.getstate() == py_before and _numpy_state_equal(np.random.get_state(), np_before)


@pytest.mark.parametrize("pid", IDS)
@pytest.mark.parametrize("lang,text,script", [
    ("hi", "इस दवाई को हर छः घंटे लेना।", "Deva"),
    ("th", "เหลือเวลาอีกกี่ชั่วโมงกว่าจะเดินทางไปถึง", "Thai"),
    ("ta", "தானம் தவமிரண்டும் தங்கா வியனுலகம்", "Taml"),
])
def test_cluster_scripts_are_refused_with_a_reason(pid, lang, text, script):
    _needs_nlpaug()
    res = _run(pid, text, lang, severity=1.0)
    assert not res.applied and res.text == nfc(text)
    assert res.reason == f"nlpaug splits grapheme clusters in {script}"


@pytest.mark.parametrize("pid", SPACED)
def test_arabic_with_harakat_is_refused_plain_arabic_is_edited(pid):
    _needs_nlpaug()
    voweled = _run(pid, "اللُّغَةُ العَرَبِيَّةُ جَمِيلَةٌ", "ar", severity=1.0)
    assert not voweled.applied and voweled.reason == "nlpaug splits grapheme clusters in Arab"
    plain = _run(pid, "كان سامي يربح الكثير من المال في تلك الأيام", "ar", severity=1.0)
    assert plain.applied and ill_formed(plain.text) == 0


@pytest.mark.parametrize("pid,lang,text,script", [
    ("nlpaug.keyboard.v1", "zh", "我爱北京天安门", "Hani"),
    ("nlpaug.ocr.v1", "ru", RU, "Cyrl"),
])
def test_unsupported_script_says_so(pid, lang, text, script):
    _needs_nlpaug()
    res = _run(pid, text, lang, severity=1.0)
    assert not res.applied and res.reason.startswith(f"{pid} does not support {script}")


@pytest.mark.parametrize("pid", SPACED)
def test_code_mixed_text_edits_only_safe_words(pid):
    _needs_nlpaug()
    text = nfc("मैं Facebook पर हूँ और Twitter पर भी")
    for seed in range(8):
        res = _run(pid, text, "hi", severity=1.0, seed=seed)
        assert res.applied
        for span in res.alignment:
            assert text[span.old_start:span.old_end] in ("Facebook", "Twitter")
        assert ill_formed(res.text) == ill_formed(text)


@pytest.mark.parametrize("pid", SPACED)
def test_cyrillic_gets_cyrillic_edits_and_whitespace_is_kept(pid):
    _needs_nlpaug()
    text = nfc("Я  знаю много\nлюдей,\tу которых нет прав.")
    res = _run(pid, text, "ru", severity=1.0)
    assert res.applied
    assert [m for m in text if m.isspace()] == [m for m in res.text if m.isspace()]  # spacing byte-identical
    new_letters = {c for c in res.text if c.isalpha()} - {c for c in text if c.isalpha()}
    assert new_letters and not any(c.isascii() for c in new_letters), new_letters


def test_keyboard_maps_come_from_nlpaug_or_our_layouts():
    _needs_nlpaug()
    from pathlib import Path

    import nlpaug

    from attacks.nlpaug_engine._engine import keyboard_model

    shipped = Path(nlpaug.__file__).parent
    name, path = keyboard_model("en")
    assert name == "en" and Path(path).is_relative_to(shipped)  # nlpaug ships en
    name, path = keyboard_model("ru")  # nlpaug does not ship ru: ours, converted
    mapping = json.loads(Path(path).read_text(encoding="utf-8"))
    assert not Path(path).is_relative_to(shipped) and "ы" in mapping["ф"]


def test_severity_is_nlpaug_word_share_and_zero_is_identity():
    _needs_nlpaug()
    text = "alpha bravo charlie delta foxtrot hotel india juliet kilo lima"
    assert _run("nlpaug.random_char.v1", text, "en", severity=0.0).text == text
    res = _run("nlpaug.random_char.v1", text, "en", severity=0.3)
    assert res.n_eligible == 10 and res.n_edited == 3  # ceil(0.3 * 10) words, one character each
    assert all(len(graphemes(text[s.old_start:s.old_end])) == len(graphemes(res.text[s.new_start:s.new_end]))
               for s in res.alignment)


def test_bad_parameters_are_config_errors():
    with pytest.raises(ConfigError, match="action must be one of"):
        make_perturbation("nlpaug.random_char.v1", {"action": "shuffle"})
    with pytest.raises(ConfigError, match="edits_per_word"):
        make_perturbation("nlpaug.keyboard.v1", {"edits_per_word": 0})


def _hide_nlpaug(monkeypatch) -> None:
    for name in [m for m in sys.modules if m == "nlpaug" or m.startswith("nlpaug.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "nlpaug", None)  # a None entry makes `import nlpaug` fail


@pytest.mark.parametrize("pid", IDS)
def test_without_nlpaug_perturb_asks_for_the_extra(pid, monkeypatch):
    _hide_nlpaug(monkeypatch)
    p = make_perturbation(pid)
    with pytest.raises(ConfigError, match=r"install xrobust\[nlpaug\]"):
        p.perturb("hello world", 0.5, derive_rng(0, pid, 0.5, "x", "text"), "en")


def test_without_nlpaug_ls_and_perturb_cli(monkeypatch, capsys):
    _hide_nlpaug(monkeypatch)
    code, out, _ = run_cli(["ls", "perturbations", "--format", "json"], capsys)
    assert code == 0 and set(IDS) <= {i["id"] for i in json.loads(out)}
    code, _, err = run_cli(["perturb", "--lang", "en", "-p", "nlpaug.keyboard.v1", "hello world"], capsys)
    assert code == 2 and "install xrobust[nlpaug]" in err
