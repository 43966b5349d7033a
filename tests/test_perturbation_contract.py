"""The contract every registered perturbation keeps; a new plugin is tested here for free.

Iterates over `PERTURBATIONS.names()`: determinism, severity 0 is identity, NFC-stable output, no
crash on hard scripts, no detached marks, token count, alignment, honest `applied`/`reason`,
measured edit rate, declared scripts, and a hypothesis property test over arbitrary text.
"""
from __future__ import annotations

import dataclasses
import doctest
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.errors import ConfigError
from harness.perturbation import ALL_SCRIPTS, PERTURBATIONS, Perturbation, PerturbResult, make_perturbation
from harness.rng import derive_rng
from harness.text import cluster_script, detached_marks, grapheme_edit_rate, graphemes, is_letter_cluster, nfc

IDS = PERTURBATIONS.names()

# name -> (lang, text); texts are NFC-normalised below (the perturbations' input contract).
SAMPLES: dict[str, tuple[str, str]] = {
    "empty": ("und", ""),
    "whitespace": ("und", " \t\n "),
    "emoji_zwj": ("en", "👨‍👩‍👧 family"),
    "emoji_only": ("und", "👨‍👩‍👧 🏳️‍🌈 👍🏽"),
    "latin": ("en", "The quick brown fox jumps over the lazy dog."),
    "latin_caps": ("en", "NASA and the UN met in New York"),
    "latin_combining": ("vi", "Tiếng Việt: q\u0303uê x\u0301a n\u0306\u0323 ŋ\u030a"),
    "german": ("de", "Größere Übungen für Straßenbahnfahrer"),
    "russian": ("ru", "Привет, мир! Как дела?"),
    "greek": ("el", "Καλημέρα κόσμε"),
    "arabic_harakat": ("ar", "اللُّغَةُ العَرَبِيَّةُ جَمِيلَةٌ"),
    "hebrew_niqqud": ("he", "שָׁלוֹם עוֹלָם"),
    "devanagari": ("hi", "क्षत्रिय नमस्ते किताब"),
    "thai": ("th", "ภาษาไทยเป็นภาษาที่สวยงาม"),
    "hangul": ("ko", "한국어 텍스트입니다"),
    "han": ("zh", "我爱北京天安门"),
    "japanese": ("ja", "日本語のテキストです"),
    "code_mixed": ("hi", "मैं Facebook पर हूँ, ok? 123 🙂"),
    "digits_punct": ("en", "12,345 -- ?! ..."),
    "single_letters": ("en", "a I o"),
}
SEVERITIES = (0.0, 0.1, 0.5, 1.0)


def _rng(pid: str, severity: float, key: str, seed: int = 0):
    return derive_rng(seed, pid, severity, key, "text")


def check_result(p: Perturbation, text: str, severity: float, result: PerturbResult) -> None:
    """Every property a PerturbResult must have for input `text` (NFC)."""
    out = result.text
    assert isinstance(result, PerturbResult)
    assert nfc(out) == out, "output is not NFC-stable"
    assert detached_marks(out) <= detached_marks(text), "a combining mark was detached"
    if p.keeps_token_count:
        assert len(out.split()) == len(text.split()), "token count changed"
    assert result.edit_rate == grapheme_edit_rate(text, out)
    assert 0 <= result.n_edited <= result.n_eligible
    if not result.applied:
        assert out == text, "applied=False but the text changed"
        assert result.reason, "applied=False needs a reason"
        assert result.alignment == () and result.n_edited == 0 and result.edit_rate == 0.0
        return
    assert severity > 0
    assert out != text and result.n_edited > 0 and result.alignment
    _check_alignment(p, text, out, result)


def _check_alignment(p: Perturbation, text: str, out: str, result: PerturbResult) -> None:
    """Rebuild `out` from `text` by replacing each span: text outside the spans is unchanged."""
    old_cursor = new_cursor = 0
    for span in result.alignment:
        assert old_cursor <= span.old_start <= span.old_end <= len(text)
        assert new_cursor <= span.new_start <= span.new_end <= len(out)
        assert text[old_cursor:span.old_start] == out[new_cursor:span.new_start], "text outside spans changed"
        assert text[span.old_start:span.old_end] != out[span.new_start:span.new_end], "span without an edit"
        if p.scripts != ALL_SCRIPTS:  # declared scripts honoured: only words in a supported script change
            old = text[span.old_start:span.old_end]
            assert any(is_letter_cluster(g) and p.supports_script(cluster_script(g)) for g in graphemes(old))
        old_cursor, new_cursor = span.old_end, span.new_end
    assert text[old_cursor:] == out[new_cursor:], "text after the last span changed"


@pytest.mark.parametrize("pid", IDS)
def test_registered_class_is_well_formed(pid: str) -> None:
    cls = PERTURBATIONS.get(pid)
    assert cls.id == pid
    assert cls.family and cls.description and cls.__doc__
    assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen
    assert isinstance(cls.keeps_token_count, bool)
    scripts = cls.scripts
    assert scripts == ALL_SCRIPTS or (isinstance(scripts, frozenset) and all(len(s) == 4 for s in scripts))
    p = make_perturbation(pid)
    assert make_perturbation(pid, p.params()) == p
    hash(p)  # frozen: usable as a cache key


@pytest.mark.parametrize("pid", IDS)
def test_docstring_examples_of_the_plugin_module(pid: str) -> None:
    module = sys.modules[PERTURBATIONS.get(pid).__module__]
    failed, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert failed == 0, f"docstring examples of {module.__name__} fail"


@pytest.mark.parametrize("pid", IDS)
@pytest.mark.parametrize("sample", list(SAMPLES))
@pytest.mark.parametrize("severity", SEVERITIES)
def test_contract_on_samples(pid: str, sample: str, severity: float) -> None:
    lang, text = SAMPLES[sample]
    text = nfc(text)
    p = make_perturbation(pid)
    result = p.perturb(text, severity, _rng(pid, severity, sample), lang)
    check_result(p, text, severity, result)
    assert p.perturb(text, severity, _rng(pid, severity, sample), lang) == result, "not deterministic"
    if severity == 0.0:
        assert result.text == text and not result.applied


@pytest.mark.parametrize("pid", IDS)
def test_determinism_across_instances_and_order(pid: str) -> None:
    """Same keys -> same output, whatever was perturbed before and by which instance."""
    lang, text = SAMPLES["latin"]
    first = make_perturbation(pid).perturb(text, 0.5, _rng(pid, 0.5, "x"), lang)
    other = make_perturbation(pid)
    for name, (lg, t) in SAMPLES.items():  # warm caches with other texts in between
        other.perturb(nfc(t), 1.0, _rng(pid, 1.0, name), lg)
    assert other.perturb(text, 0.5, _rng(pid, 0.5, "x"), lang) == first


@pytest.mark.parametrize("pid", IDS)
def test_different_keys_give_different_outputs(pid: str) -> None:
    lang, text = SAMPLES["latin"]
    p = make_perturbation(pid)
    outs = {p.perturb(text, 0.5, derive_rng(seed, pid, 0.5, "x"), lang).text for seed in range(20)}
    assert len(outs) > 1


@pytest.mark.parametrize("pid", IDS)
@pytest.mark.parametrize("severity", (-0.1, 1.5))
def test_severity_out_of_range_is_a_config_error(pid: str, severity: float) -> None:
    with pytest.raises(ConfigError):
        make_perturbation(pid).perturb("hello world", severity, _rng(pid, 0.0, "x"))


# Arbitrary text, and text drawn from the samples' characters (marks, vowel signs, ZWJ) plus spaces,
# which st.text() alone rarely combines into words of real scripts.
_SAMPLE_CHARS = sorted({ch for _, t in SAMPLES.values() for ch in t} | set(" \u0301\u093f\u0e32\u0e40\u200d"))
TEXTS = st.one_of(st.text(), st.text(alphabet=st.sampled_from(_SAMPLE_CHARS), max_size=40))
LANGS = st.sampled_from(["und", "en", "de", "hi", "ar", "ru", "th", "zh", "ko", "xx"])


@pytest.mark.parametrize("pid", IDS)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXTS, severity=st.floats(min_value=0.0, max_value=1.0), seed=st.integers(0, 2**32), lang=LANGS)
def test_contract_property(pid: str, text: str, severity: float, seed: int, lang: str) -> None:
    text = nfc(text)
    p = make_perturbation(pid)
    result = p.perturb(text, severity, derive_rng(seed, pid, severity, "h"), lang)
    check_result(p, text, severity, result)
    assert p.perturb(text, severity, derive_rng(seed, pid, severity, "h"), lang) == result
    if severity == 0.0:
        assert result.text == text and not result.applied
