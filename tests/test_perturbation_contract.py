"""The contract every registered perturbation keeps; a new plugin is tested here for free.

Iterates over `PERTURBATIONS.names()`: determinism, severity 0 is identity, NFC-stable output, no
crash on hard scripts, well-formedness never worse (no detached mark, no dangling Thai/Lao vowel
letter), token count, alignment (checked by applying it), honest `applied`/`reason`, measured edit
rate, declared scripts. Every XTREME-R script has a real sentence below, and a hypothesis property
test runs 2000 examples per perturbation over arbitrary text and text built from those sentences.
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
from harness.text import cluster_script, grapheme_edit_rate, graphemes, ill_formed, is_letter_cluster, nfc

IDS = PERTURBATIONS.names()

# One real sentence per XTREME-R script (ISO 15924 -> (lang, text)). From tests/golden/inputs.json
# (Tatoeba / PAN-X rows of ../shared/data/xtreme_r), except Kana: Tatoeba ja row tatoeba-jpn-0021
# (the golden Japanese sentence has hiragana but no katakana).
SCRIPT_SAMPLES: dict[str, tuple[str, str]] = {
    "Latn": ("en", "Mary said she didn't know where Tom was."),
    "Cyrl": ("ru", "Я знаю много людей, у которых нет прав."),
    "Grek": ("el", "Αν έχεις να πεις κάτι, πες το."),
    "Arab": ("ar", "كان سامي يربح الكثير من المال."),
    "Hebr": ("he", "אמא שלי משחקת גולף מצוין."),
    "Deva": ("hi", "इस दवाई को हर छः घंटे लेना।"),
    "Beng": ("bn", "উনি কি কাছাকাছি কোথাও থাকেন?"),
    "Taml": ("ta", "தானம் தவமிரண்டும் தங்கா வியனுலகம் வானம் வழங்கா தெனின்"),
    "Telu": ("te", "తనని ఒంటరిగా వదిలెయ్యడం మంచిది"),
    "Mlym": ("ml", "എന്റെ വലതുകണ്ണിലെ കാഴ്ച എനിക്ക് രണ്ടു വർഷം മുമ്പ് നഷ്ടമായി."),
    "Gujr": ("gu", "તેમનાં પુત્રી વર્ષા અડાલજા જાણીતાં લેખિકા છે ."),
    "Guru": ("pa", "ਰੀਡਿਰੈਕਟ ਰਾਹਤ ਫ਼ਤਿਹ ਅਲੀ ਖ਼ਾਨ"),
    "Thai": ("th", "เหลือเวลาอีกกี่ชั่วโมงกว่าจะเดินทางไปถึง?"),
    "Geor": ("ka", "ბაღში ბევრი წითელი ყვავილებია."),
    "Hang": ("ko", "나는 이번 겨울에 처음으로 스키를 타러 갔다."),
    "Hani": ("zh", "选择什么是“对”或“错”是一项艰难的任务，我们却必须要完成它。"),
    "Kana": ("ja", "トムはチェスが好きではない。"),
    "Mymr": ("my", "စံထွန်း၊ စဝ်၊ မိုင်းပွန်စော်ဘွား"),
}
XTREME_R_SCRIPTS = ("Latn", "Cyrl", "Grek", "Arab", "Hebr", "Deva", "Beng", "Taml", "Telu", "Mlym",
                    "Gujr", "Guru", "Thai", "Geor", "Hang", "Hani", "Kana", "Mymr")

# name -> (lang, text); texts are NFC-normalised below (the perturbations' input contract).
SAMPLES: dict[str, tuple[str, str]] = {
    "empty": ("und", ""),
    "whitespace": ("und", " \t\n "),
    "emoji_zwj": ("en", "👨‍👩‍👧 family"),
    "emoji_only": ("und", "👨‍👩‍👧 🏳️‍🌈 👍🏽"),
    "latin": ("en", "The quick brown fox jumps over the lazy dog."),
    "latin_caps": ("en", "NASA and the UN met in New York"),
    "latin_combining": ("vi", "Tiếng Việt: q\u0303uê x\u0301a n\u0306\u0323 ŋ\u030a"),
    "vietnamese": ("vi", "Lẽ ra anh ấy phải thận trọng hơn."),
    "german": ("de", "Größere Übungen für Straßenbahnfahrer"),
    "turkish": ("tr", "İnsanları görünüşle yargılama."),
    "russian": ("ru", "Привет, мир! Как дела?"),
    "greek": ("el", "Καλημέρα κόσμε"),
    "greek_vowels": ("el", "Αυτό είναι το παλιό μου ποδήλατο."),
    "arabic_harakat": ("ar", "اللُّغَةُ العَرَبِيَّةُ جَمِيلَةٌ"),
    "urdu": ("ur", "سالگیرہ مبارک ہو موریال ۔"),
    "hebrew_niqqud": ("he", "שָׁלוֹם עוֹלָם"),
    "devanagari": ("hi", "क्षत्रिय नमस्ते किताब"),
    "marathi": ("mr", "तुम्हाला कॉफीत साखर हवी आहे का?"),
    "thai": ("th", "ภาษาไทยเป็นภาษาที่สวยงาม"),
    "hangul": ("ko", "한국어 텍스트입니다"),
    "han": ("zh", "我爱北京天安门"),
    "japanese": ("ja", "日本語のテキストです"),
    "japanese_kanji_kana": ("ja", "校長先生は、生徒が廊下を散らかしたときは、きびしく叱りました。"),
    "code_mixed": ("hi", "मैं Facebook पर हूँ, ok? 123 🙂"),
    "digits_punct": ("en", "12,345 -- ?! ..."),
    "single_letters": ("en", "a I o"),
    **{f"xtreme_r_{script}": sample for script, sample in SCRIPT_SAMPLES.items()},
}
SEVERITIES = (0.0, 0.1, 0.5, 1.0)


def _rng(pid: str, severity: float, key: str, seed: int = 0):
    return derive_rng(seed, pid, severity, key, "text")


def check_result(p: Perturbation, text: str, severity: float, result: PerturbResult) -> None:
    """Every property a PerturbResult must have for input `text` (NFC)."""
    out = result.text
    assert isinstance(result, PerturbResult)
    assert nfc(out) == out, "output is not NFC-stable"
    assert ill_formed(out) <= ill_formed(text), "a combining mark was detached or a vowel letter left dangling"
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
    assert apply_alignment(text, out, result.alignment) == out, "applying the alignment does not give the output"
    _check_spans(p, text, out, result)


def apply_alignment(text: str, out: str, alignment) -> str:
    """`text` with each aligned span replaced by its new text: equals `out` when the alignment is right."""
    pieces, cursor = [], 0
    for span in alignment:
        pieces += [text[cursor:span.old_start], out[span.new_start:span.new_end]]
        cursor = span.old_end
    return "".join(pieces) + text[cursor:]


def _check_spans(p: Perturbation, text: str, out: str, result: PerturbResult) -> None:
    """Spans are ordered, in range, each changes something, and each covers a letter of a declared script."""
    old_cursor = new_cursor = 0
    for span in result.alignment:
        assert old_cursor <= span.old_start <= span.old_end <= len(text)
        assert new_cursor <= span.new_start <= span.new_end <= len(out)
        assert span.new_start - span.old_start == new_cursor - old_cursor, "new offsets do not follow the old ones"
        assert text[span.old_start:span.old_end] != out[span.new_start:span.new_end], "span without an edit"
        if p.scripts != ALL_SCRIPTS:  # declared scripts honoured: only words in a supported script change
            old = text[span.old_start:span.old_end]
            assert any(is_letter_cluster(g) and p.supports_script(cluster_script(g)) for g in graphemes(old)), \
                f"edited span {old!r} has no letter of a declared script {sorted(p.scripts)}"
        old_cursor, new_cursor = span.old_end, span.new_end


def test_every_xtreme_r_script_has_a_real_sample() -> None:
    assert set(SCRIPT_SAMPLES) == set(XTREME_R_SCRIPTS)
    for script, (_, text) in SCRIPT_SAMPLES.items():
        assert nfc(text) == text
        found = {cluster_script(g) for g in graphemes(text) if is_letter_cluster(g)}
        assert script in found, f"the {script} sample has letters of {sorted(found)} only"


@pytest.mark.parametrize("pid", IDS)
def test_registered_class_is_well_formed(pid: str) -> None:
    cls = PERTURBATIONS.get(pid)
    assert cls.id == pid
    assert cls.family and cls.description and cls.__doc__
    assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen
    assert isinstance(cls.keeps_token_count, bool)
    p = make_perturbation(pid)
    for scripts in (cls.scripts, p.scripts):  # on the class: every script it can reach; on an instance: its own
        assert scripts == ALL_SCRIPTS or (isinstance(scripts, frozenset) and all(len(s) == 4 for s in scripts))
    assert p.scripts == ALL_SCRIPTS or p.scripts <= cls.scripts
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
    """On the samples the perturbation applies to, other seeds give other outputs."""
    p = make_perturbation(pid)
    applicable = [(lang, nfc(t)) for lang, t in SAMPLES.values()
                  if p.perturb(nfc(t), 1.0, derive_rng(0, pid, 1.0, "probe"), lang).applied]
    if not applicable and PERTURBATIONS.get(pid).family == "realworld":
        pytest.skip("a paired-noise lookup edits only the texts of its file (tests/test_realworld.py checks seeds)")
    assert applicable, f"{pid} applies to none of the samples"
    assert any(len({p.perturb(text, 0.5, derive_rng(seed, pid, 0.5, "x"), lang).text for seed in range(20)}) > 1
               for lang, text in applicable)


@pytest.mark.parametrize("pid", IDS)
@pytest.mark.parametrize("severity", (-0.1, 1.5))
def test_severity_out_of_range_is_a_config_error(pid: str, severity: float) -> None:
    with pytest.raises(ConfigError):
        make_perturbation(pid).perturb("hello world", severity, _rng(pid, 0.0, "x"))


# Property test inputs. st.text() alone rarely builds words of a real script, so most examples come
# from the samples: text drawn from one sample's characters (words of one script, with its marks and
# vowel letters), from all samples' characters (mixed scripts), slices of a real sentence (which may
# start with a detached mark), and two slices of different scripts joined (code-mixing).
_REAL = [(lang, nfc(text)) for lang, text in SAMPLES.values() if text.strip()]
_HARD = " \u0301\u093f\u0e32\u0e40\u200d\u200c"  # a space, acute, matra, Thai vowel letters, ZWJ, ZWNJ
_ALL_CHARS = sorted({ch for _, t in _REAL for ch in t} | set(_HARD))
LANGS = st.sampled_from(["und", "en", "de", "tr", "vi", "hi", "mr", "ar", "ur", "ru", "el", "th", "zh", "ja",
                         "ko", "xx"])


# Strategies are built once (no flatmap): building strategies per example costs more than perturbing.
_ONE_SCRIPT = st.one_of([
    st.tuples(st.one_of(st.just(lang), LANGS), st.text(alphabet=sorted(set(text) | set(_HARD)), max_size=40))
    for lang, text in _REAL])


def _cut(i: int, a: int, b: int) -> tuple[str, str]:
    lang, text = _REAL[i]
    a, b = sorted((a % (len(text) + 1), b % (len(text) + 1)))
    return lang, text[a:b]


_SLICES = st.builds(_cut, st.integers(0, len(_REAL) - 1), st.integers(0, 1000), st.integers(0, 1000))
INPUTS = st.one_of(
    st.tuples(LANGS, st.text()),
    _ONE_SCRIPT,
    st.tuples(LANGS, st.text(alphabet=_ALL_CHARS, max_size=40)),
    _SLICES,
    st.tuples(_SLICES, _SLICES).map(lambda ab: (ab[0][0], ab[0][1] + " " + ab[1][1])),
)


@pytest.mark.parametrize("pid", IDS)
@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inp=INPUTS, severity=st.floats(min_value=0.0, max_value=1.0), seed=st.integers(0, 2**32))
def test_contract_property(pid: str, inp: tuple[str, str], severity: float, seed: int) -> None:
    lang, text = inp
    text = nfc(text)
    p = make_perturbation(pid)
    result = p.perturb(text, severity, derive_rng(seed, pid, severity, "h"), lang)
    check_result(p, text, severity, result)
    assert p.perturb(text, severity, derive_rng(seed, pid, severity, "h"), lang) == result
    if severity == 0.0:
        assert result.text == text and not result.applied
