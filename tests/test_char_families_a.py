"""Exact outputs and targeted behaviour of the character perturbation families of issue 3, part A:
OCR confusions, invisible characters, diacritics (strip, misplace), case, repetition, punctuation.

The expected strings were produced with `derive_rng(7, pid, 0.5, lang, "text")` and checked by eye:
OCR look-alikes are same-script confusions (o->u, l->I, g->9, ي->ى, ו->ן, ท->ฑ, า->ๅ); invisible
characters sit between two letter clusters (LRM after left-to-right letters); stripping removes
exactly the accents/tone marks/tonos/harakat/niqqud; misplacing moves one mark to a neighbouring
letter (Vietnamese tone to the other vowel: hoà -> hòa); case flips one letter or a whole word
(Turkish İ kept); repetition doubles whole clusters; punctuation comes from the word's script.
To regenerate after an intended change (which needs a `.v2` id), print `run(pid, text, lang).text`
for each pid in EXPECTED and lang in TEXTS.
"""
from __future__ import annotations

import unicodedata

import pytest
import regex
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attacks.char._keyboards import layout_chars
from attacks.char.case import CaseNoise, flip_char
from attacks.char.diacritics_strip import stripped
from attacks.char.invisible import INVISIBLE, LRM, RLM
from attacks.char.ocr import OcrConfusion, ocr_scripts, single_table
from attacks.char.punct import PUNCT_BY_SCRIPT, PunctuationNoise, boundary_words
from attacks.char.repeat import TATWEEL
from harness.errors import ConfigError
from harness.perturbation import PERTURBATIONS, Perturbation, PerturbResult, make_perturbation
from harness.rng import derive_rng
from harness.text import char_script, graphemes, ill_formed, is_letter_cluster, nfc
from test_perturbation_contract import INPUTS, check_result

MINE = ("char.ocr.v1", "char.invisible.v1", "char.diacritics.strip.v1", "char.diacritics.misplace.v1",
        "char.case.v1", "char.repeat.v1", "char.punct.v1")

TEXTS = {
    "en": "The quick brown fox jumps over the lazy dog.",
    "de": "Größere Übungen für Straßenbahnfahrer",
    "vi": "Tiếng Việt rất hoà nhã, người ơi",
    "tr": "İnsanları görünüşle yargılama.",
    "el": "Αυτό είναι το παλιό μου ποδήλατο.",
    "ru": "Привет, мир! Как дела?",
    "ar": "اللُّغَةُ العَرَبِيَّةُ جَمِيلَةٌ",
    "he": "שָׁלוֹם עוֹלָם",
    "hi": "क्षत्रिय नमस्ते किताब",
    "th": "ภาษาไทยเป็นภาษาที่สวยงาม",
    "zh": "我爱北京天安门，你好！",
    "ja": "トムはチェスが好きではない。",
    "ko": "한국어 텍스트입니다",
}

EXPECTED = {
    "char.ocr.v1": {
        "en": "The quick brown fox jumps uver the Iazy do9.",
        "de": "Gkößere Übungen fük Straßenbahnfahrer",
        "vi": "Tiếng Việt kất hoà nhã, người ơi",
        "tr": "İn8anları görünüş1e yargılama.",
        "el": "Αυτό είναι το παλιό μσυ ποδήλατο.",
        "ru": "Привет, мир! Как дела?",  # ru writers have none of the Cyrillic look-alikes (ѝ is Bulgarian)
        "ar": "اللُّغَةُ العَرَبِىَّةُ جَمِيلَةٌ",
        "he": "שָׁלןֹם עוֹלָם",
        "hi": "क्षत्रिय नमस्ते किताब",  # Devanagari look-alikes are multi-character (multichar=True)
        "th": "ภาษาไทยเป็นภาษาฑี่สวยงๅม",
        "zh": "我爱北京天安门，你好！",  # none of these Han characters is in the confusables table
        "ja": "トムはチェスが好きではない。",
        "ko": "한국어 텍스트입니다",
    },
    "char.invisible.v1": {  # shown with visible(): ⟨zwsp⟩ ⟨zwnj⟩ ⟨zwj⟩ ⟨shy⟩ ⟨lrm⟩ ⟨rlm⟩
        "en": "T⟨shy⟩he quick brown f⟨zwsp⟩ox jumps o⟨lrm⟩ver th⟨zwsp⟩e la⟨zwj⟩zy dog.",
        "de": "Größere Übunge⟨zwnj⟩n für Straßenbahnfa⟨lrm⟩hrer",
        "vi": "Tiến⟨zwsp⟩g Vi⟨lrm⟩ệt rất hoà nhã, ng⟨zwnj⟩ười ơ⟨shy⟩i",
        "tr": "İnsanları görü⟨zwnj⟩nüşle yargıla⟨shy⟩ma.",
        "el": "Αυτό είναι τ⟨lrm⟩ο παλιό μ⟨lrm⟩ου ποδ⟨shy⟩ήλατο.",
        "ru": "П⟨zwnj⟩ривет, мир! Как дел⟨lrm⟩а?",
        "ar": "اللُّغَةُ ال⟨zwj⟩عَرَبِيَّةُ جَ⟨zwsp⟩مِيلَةٌ",
        "he": "שָׁ⟨zwnj⟩לוֹם עוֹלָם",
        "hi": "क्ष⟨zwj⟩त्रिय नम⟨zwsp⟩स्ते किताब",
        "th": "ภา⟨shy⟩ษาไทยเป็⟨zwj⟩นภาษาที่สวยงา⟨lrm⟩ม",
        "zh": "我爱北京天安门，你⟨lrm⟩好！",
        "ja": "トムはチェスが好⟨zwnj⟩きで⟨shy⟩はな⟨zwj⟩い。",
        "ko": "한⟨zwnj⟩국어 텍스트입니다",
    },
    "char.diacritics.strip.v1": {
        "en": "The quick brown fox jumps over the lazy dog.",
        "de": "Größere Übungen fur Straßenbahnfahrer",
        "vi": "Tiếng Viet rat hoa nha, người ơi",
        "tr": "Insanlari gorunusle yargılama.",
        "el": "Αυτό ειναι το παλιό μου ποδηλατο.",
        "ru": "Привет, мир! Как дела?",
        "ar": "اللغة العربية جَمِيلَةٌ",
        "he": "שָׁלוֹם עולם",
        "hi": "क्षत्रिय नमस्ते किताब",
        "th": "ภาษาไทยเป็นภาษาที่สวยงาม",
        "zh": "我爱北京天安门，你好！",
        "ja": "トムはチェスが好きではない。",
        "ko": "한국어 텍스트입니다",
    },
    "char.diacritics.misplace.v1": {
        "en": "The quick brown fox jumps over the lazy dog.",
        "de": "Größere Übungen für Straßenbahnfahrer",  # ö ü have no vowel neighbour
        "vi": "Tiếng Việt rất hòa nhã, ngươì ơi",
        "tr": "İnsanları görünüşle yargılama.",
        "el": "Αυτό είναι το παλίο μου ποδήλατο.",
        "ru": "Привет, мир! Как дела?",
        "ar": "اللُّغَةُ العَرَبِّيَةُ جَمِيَلةٌ",
        "he": "שָׁלוֹם עֹולָם",
        "hi": "क्षत्रिय नमस्ते किताब",
        "th": "ภาษาไทยเป็นภาษาที่สวยงาม",
        "zh": "我爱北京天安门，你好！",
        "ja": "トムはチェスが好きではない。",
        "ko": "한국어 텍스트입니다",
    },
    "char.case.v1": {
        "en": "tHE quick brown Fox jumps oveR the LAZY dOg.",
        "de": "Größere ÜBungen Für Straßenbahnfahrer",
        "vi": "tIẾNG vIỆT rất hoà NHÃ, người ƠI",
        "tr": "İnsanLarı GÖRÜNÜŞLE yargılama.",
        "el": "αΥΤΌ είναι ΤΟ παλιό ΜΟΥ ποδήλατο.",
        "ru": "Привет, мир! КАк дЕла?",
        "ar": "اللُّغَةُ العَرَبِيَّةُ جَمِيلَةٌ",
        "he": "שָׁלוֹם עוֹלָם",
        "hi": "क्षत्रिय नमस्ते किताब",
        "th": "ภาษาไทยเป็นภาษาที่สวยงาม",
        "zh": "我爱北京天安门，你好！",
        "ja": "トムはチェスが好きではない。",
        "ko": "한국어 텍스트입니다",
    },
    "char.repeat.v1": {
        "en": "Theee quick brooown fox jumps oveer thhe lazy dooog.",
        "de": "Größere Übungen fürrr Straßenbahnfahreer",
        "vi": "Tiếngg Việt rất hoà nhhã, ngườờời ơi",
        "tr": "İnsanları görünüşle yargılamaaa.",
        "el": "Αυτό είναι το παλιιιό μμμου ποδήήήλατο.",
        "ru": "Пррривет, мир! Как деллла?",
        "ar": "اللُّغَــةُ العَرَرَبِيَّةُ جَمِيلَةٌ",
        "he": "שָׁלוֹם עוֹלָםםם",
        "hi": "क्षक्षत्रिय नमस्ते किताताताब",
        "th": "ภาษาไทยยเป็นภาาาษาที่ที่สวยงาม",
        "zh": "我我我爱爱北北京天安门，你好！",
        "ja": "トトムはチェスが好きききではははないいい。",
        "ko": "한국국어 텍스트입니다",
    },
    "char.punct.v1": {
        "en": "The; quick brown fox. jumps? over the? lazy dog",
        "de": "Größere Übungen! für Straßenbahnfahrer.",
        "vi": "Tiếng; Việt, rất hoà; nhã, người ơi",
        "tr": "İnsanları. görünüşle yargılama",
        "el": "Αυτό είναι, το, παλιό μου! ποδήλατο.",
        "ru": "Привет, мир. Как дела",
        "ar": "اللُّغَةُ، العَرَبِيَّةُ جَمِيلَةٌ",
        "he": "שָׁלוֹם עוֹלָם.",
        "hi": "क्षत्रिय! नमस्ते किताब",
        "th": "ภาษาไทยเป็น!ภาษา!ที่!สวยงาม",
        "zh": "我爱？北京天安门你好。",
        "ja": "トムは。チェス？が、好きでは！ない。",
        "ko": "한국어 텍스트입니다!",
    },
}


_SHOW = {"\u200b": "⟨zwsp⟩", "\u200c": "⟨zwnj⟩", "\u200d": "⟨zwj⟩", "\xad": "⟨shy⟩", LRM: "⟨lrm⟩", RLM: "⟨rlm⟩"}


def visible(text: str) -> str:
    """`text` with its invisible characters named, so expected strings can be read."""
    return "".join(_SHOW.get(ch, ch) for ch in text)


def run(pid: str, text: str, lang: str, severity: float = 0.5, seed: int = 7, **params) -> PerturbResult:
    rng = derive_rng(seed, pid, severity, lang, "text")
    return make_perturbation(pid, params or None).perturb(nfc(text), severity, rng, lang)


def outputs(p: Perturbation, text: str, lang: str, severity: float = 1.0, seeds: int = 30) -> list[PerturbResult]:
    return [p.perturb(nfc(text), severity, derive_rng(seed, p.id, severity, "t"), lang) for seed in range(seeds)]


def test_all_registered() -> None:
    assert set(MINE) <= set(PERTURBATIONS.names())


@pytest.mark.parametrize("pid", MINE)
@pytest.mark.parametrize("lang", list(TEXTS))
def test_exact_outputs(pid: str, lang: str) -> None:
    result = run(pid, TEXTS[lang], lang)
    assert visible(result.text) == EXPECTED[pid][lang]
    assert result.applied == (result.text != nfc(TEXTS[lang]))
    if not result.applied:
        assert result.reason


# --- char.ocr.v1 ---------------------------------------------------------------------------------

def _new_chars(text: str, result: PerturbResult) -> list[tuple[str, str]]:
    """(old span, new span) of every edit."""
    return [(text[s.old_start:s.old_end], result.text[s.new_start:s.new_end]) for s in result.alignment]


@pytest.mark.parametrize("lang", ["en", "de", "tr", "el", "ar", "he", "th", "ru", "hi", "vi"])
@pytest.mark.parametrize("multichar", [False, True])
def test_ocr_stays_within_the_script(lang: str, multichar: bool) -> None:
    text = nfc(TEXTS[lang])
    for result in outputs(make_perturbation("char.ocr.v1", {"multichar": multichar}), text, lang):
        for old, new in _new_chars(text, result):
            scripts = {char_script(g[0]) for g in graphemes(old) if is_letter_cluster(g)}
            for ch in set(new) - set(old):
                own = char_script(ch)
                ascii_digit = ch.isdigit() and ch.isascii() and "Latn" in scripts  # nlpaug: o <-> 0, l <-> 1
                assert own in scripts or own == "Zinh" or ascii_digit, (old, new)


def test_ocr_latin_confusions_come_from_nlpaug_and_keyboards() -> None:
    en = set(layout_chars("en"))
    seen = set()
    for result in outputs(OcrConfusion(), "lol good mood rock", "en"):
        assert set(result.text) <= en | {" "}
        seen.add(result.text)
    assert len(seen) > 5
    assert "ᴏ" in single_table(common_only=False)[("Latn", "o")] and "ᴏ" not in single_table()[("Latn", "o")]


def test_ocr_multichar_only_as_a_parameter() -> None:
    plain = {r.text for r in outputs(OcrConfusion(), "mum", "en")}
    multi = {r.text for r in outputs(OcrConfusion(multichar=True), "mum", "en")}
    assert not any("rn" in t for t in plain)
    assert {"rnum", "murn"} & multi
    hi = outputs(OcrConfusion(multichar=True), "आप", "hi")
    assert {"अाप"} == {r.text for r in hi if r.applied}
    assert not OcrConfusion().perturb("आप", 1.0, derive_rng(0), "hi").applied


def test_ocr_declared_scripts_follow_the_parameters() -> None:
    assert OcrConfusion().scripts == ocr_scripts(False)
    assert "Deva" in OcrConfusion(multichar=True).scripts and "Deva" not in OcrConfusion().scripts
    assert OcrConfusion().scripts <= OcrConfusion.scripts  # the class lists every reachable script
    assert "Hang" not in OcrConfusion.scripts  # the table only pairs conjoining jamo
    result = OcrConfusion().perturb("한국어 텍스트입니다", 1.0, derive_rng(0), "ko")
    assert not result.applied and "look-alike" in result.reason


def test_ocr_letter_becomes_digit_only_when_it_stands_alone() -> None:
    for result in outputs(OcrConfusion(), "வானம் கா க", "ta"):
        for old, new in _new_chars("வானம் கா க", result):
            for g in graphemes(new):
                assert not (g[0].isdigit() and len(g) > 1), new


# --- char.invisible.v1 ---------------------------------------------------------------------------

@pytest.mark.parametrize("kind", sorted(INVISIBLE))
def test_invisible_kind_inserts_only_that_character(kind: str) -> None:
    p = make_perturbation("char.invisible.v1", {"kinds": [kind]})  # a YAML list becomes a tuple
    assert p.kinds == (kind,)
    for lang in ("en", "ar", "hi", "th"):
        text = nfc(TEXTS[lang])
        for result in outputs(p, text, lang, seeds=5):
            added = "".join(ch for ch in result.text if ch not in text)
            assert added and set(added) <= {INVISIBLE[kind], LRM, RLM}
            assert result.text.replace(added[0], "") == text
            assert len(result.text.split()) == len(text.split())
            for word in result.text.split():  # inside words, never at their edges
                assert word[0] not in added and word[-1] not in added


def test_invisible_bidi_mark_matches_the_direction() -> None:
    p = make_perturbation("char.invisible.v1", {"kinds": ("bidi",)})
    for lang, mark, other in (("ar", RLM, LRM), ("he", RLM, LRM), ("en", LRM, RLM), ("hi", LRM, RLM)):
        for result in outputs(p, TEXTS[lang], lang, seeds=5):
            assert mark in result.text and other not in result.text


def test_invisible_keeps_vowel_letters_and_conjuncts_whole() -> None:
    p = make_perturbation("char.invisible.v1")
    invisible = set(INVISIBLE.values()) | {RLM}
    for text, lang in (("เกม เมือง แม่น้ำ", "th"), ("க்ஷ க்கம் தமிழ்நாடு", "ta")):
        for result in outputs(p, text, lang):
            assert ill_formed(result.text) == 0
            out = result.text
            assert not any(out[i] in invisible and out[i - 1] == "\u0bcd" for i in range(1, len(out)))
    assert not p.perturb("க்ஷ", 1.0, derive_rng(0), "ta").applied  # the only boundary follows a virama


def test_invisible_rejects_unknown_kinds() -> None:
    with pytest.raises(ConfigError):
        make_perturbation("char.invisible.v1", {"kinds": ("zwsp", "nbsp")})
    with pytest.raises(ConfigError):
        make_perturbation("char.invisible.v1", {"kinds": ()})


# --- char.diacritics.strip.v1 / char.diacritics.misplace.v1 ----------------------------------------

def test_strip_vietnamese_at_full_severity() -> None:
    assert run("char.diacritics.strip.v1", "Việt Nam", "vi", severity=1.0).text == "Viet Nam"
    assert run("char.diacritics.strip.v1", "Đường phố Hà Nội", "vi", severity=1.0).text == "Duong pho Ha Noi"


@pytest.mark.parametrize("lang,text,expected", [
    ("ar", "اللُّغَةُ العَرَبِيَّةُ جَمِيلَةٌ", "اللغة العربية جميلة"),
    ("ar", "أُحِبُّ القِرَاءَةَ", "أحب القراءة"),  # hamza is part of the letter: أ stays
    ("he", "שָׁלוֹם עוֹלָם", "שלום עולם"),
    ("el", "Καλημέρα κόσμε, είναι ΐ", "Καλημερα κοσμε, ειναι ι"),
    ("de", "Größere Übungen", "Großere Ubungen"),
    ("pl", "Zażółć gęślą jaźń", "Zazolc gesla jazn"),
])
def test_strip_removes_every_diacritic_at_full_severity(lang: str, text: str, expected: str) -> None:
    result = run("char.diacritics.strip.v1", text, lang, severity=1.0)
    assert result.text == expected and result.applied


def test_strip_leaves_indic_vowel_signs_and_other_scripts_alone() -> None:
    for lang in ("hi", "th", "ru", "zh", "ko"):
        result = run("char.diacritics.strip.v1", TEXTS[lang], lang, severity=1.0)
        assert not result.applied and "diacritic" in result.reason
    assert stripped("कि") == "कि" and stripped("й") == "й"


def test_strip_one_letter_per_edit_when_not_whole_word() -> None:
    outs = {run("char.diacritics.strip.v1", "tiếng", "vi", 1.0, seed, whole_word=False).text for seed in range(20)}
    assert outs == {"tieng"}  # the only accented letter
    outs = {run("char.diacritics.strip.v1", "Übungen für", "de", 1.0, seed, whole_word=False).text
            for seed in range(20)}
    assert outs == {"Ubungen fur"}
    outs = {run("char.diacritics.strip.v1", "người", "vi", 1.0, seed, whole_word=False).text for seed in range(20)}
    assert outs == {"nguời", "ngưoi"}


def test_misplace_moves_vietnamese_tones_between_vowels() -> None:
    assert run("char.diacritics.misplace.v1", "hoà", "vi", severity=1.0).text == "hòa"
    outs = {run("char.diacritics.misplace.v1", "Việt", "vi", 1.0, seed).text for seed in range(10)}
    assert outs == {"Vịêt"}  # the tone (dot below) moves, the circumflex stays
    assert run("char.diacritics.misplace.v1", "είναι", "el", severity=1.0).text == "έιναι"
    assert not run("char.diacritics.misplace.v1", "café", "fr", severity=1.0).applied  # f has no precomposed é


@pytest.mark.parametrize("lang", ["vi", "el", "ar", "he", "tr"])
def test_misplace_keeps_the_same_marks(lang: str) -> None:
    text = nfc(TEXTS[lang])

    def marks(s: str) -> list[str]:
        return sorted(ch for ch in unicodedata.normalize("NFD", s) if unicodedata.category(ch).startswith("M"))

    for result in outputs(make_perturbation("char.diacritics.misplace.v1"), text, lang):
        assert marks(result.text) == marks(text)
        assert nfc(result.text) == result.text


# --- char.case.v1 --------------------------------------------------------------------------------

def test_case_on_uncased_scripts_is_not_applied() -> None:
    for lang in ("zh", "ar", "hi", "th", "ko", "ja", "he"):
        result = run("char.case.v1", TEXTS[lang], lang, severity=1.0)
        assert not result.applied and "cased script" in result.reason


def test_case_turkish_dotted_and_dotless_i() -> None:
    assert run("char.case.v1", "iyi ılık", "tr", 1.0, mode="word").text == "İYİ ILIK"
    assert run("char.case.v1", "İYİ ILIK", "tr", 1.0, mode="word").text == "iyi ılık"
    assert run("char.case.v1", "İYİ ILIK", "az", 1.0, mode="word").text == "iyi ılık"
    assert run("char.case.v1", "İstanbul", "en", 1.0, mode="word").text == "iSTANBUL"  # one code point, not i̇
    assert flip_char("i") == "I" and flip_char("i", turkic=True) == "İ" and flip_char("ı") == "I"


def test_case_keeps_lengths() -> None:
    assert run("char.case.v1", "Straße", "de", 1.0, mode="word").text == "sTRAẞE"
    assert run("char.case.v1", "ΠΕΣ ΟΔΟΣ", "el", 1.0, mode="word").text == "πες οδος"  # final sigma
    for result in outputs(CaseNoise(), "Größere Straßenbahn ŉ ǰ ΐ", "de"):
        assert len(result.text) == len(nfc("Größere Straßenbahn ŉ ǰ ΐ"))


def test_case_letter_mode_flips_exactly_one_letter() -> None:
    for result in outputs(CaseNoise(mode="letter"), "hello world", "en"):
        assert sum(a != b for a, b in zip(result.text, "hello world")) == 2  # one letter in each word
        assert result.text.lower() == "hello world"


def test_case_georgian_only_with_mtavruli_and_only_whole_words() -> None:
    assert "Geor" not in CaseNoise().scripts and "Geor" in CaseNoise.scripts
    assert not CaseNoise().perturb("ბაღში ბევრი", 1.0, derive_rng(0), "ka").applied
    p = CaseNoise(georgian_mtavruli=True)
    assert "Geor" in p.scripts
    assert {r.text for r in outputs(p, "ბაღში", "ka")} == {"ᲑᲐᲦᲨᲘ"}
    assert not CaseNoise(mode="letter", georgian_mtavruli=True).perturb("ბაღში", 1.0, derive_rng(0), "ka").applied


def test_case_rejects_unknown_mode() -> None:
    with pytest.raises(ConfigError):
        CaseNoise(mode="title")


# --- char.repeat.v1 ------------------------------------------------------------------------------

def test_repeat_counts_and_clusters() -> None:
    seen = set()
    for result in outputs(make_perturbation("char.repeat.v1", {"max_repeat": 3}), "so", "en", seeds=60):
        assert result.text in {"sso", "ssso", "sssso", "soo", "sooo", "soooo"}
        seen.add(result.text)
    assert len(seen) == 6
    for result in outputs(make_perturbation("char.repeat.v1"), "किताब", "hi"):
        assert ill_formed(result.text) == 0 and len(graphemes(result.text)) in (4, 5)


def test_repeat_arabic_tatweel_inside_joins_only() -> None:
    dual = set("بتثجحخسشصضطظعغفقكلمنهي")
    with_tatweel = [r.text for r in outputs(make_perturbation("char.repeat.v1"), "جميل سلام", "ar", seeds=60)
                    if TATWEEL in r.text]
    assert with_tatweel
    for text in with_tatweel:
        run_ = regex.search(TATWEEL + "+", text)
        assert text[run_.start() - 1] in dual and char_script(text[run_.end()]) == "Arab", text
    off = make_perturbation("char.repeat.v1", {"arabic_tatweel": False})
    assert not any(TATWEEL in r.text for r in outputs(off, "جميل سلام", "ar", seeds=60))
    no_dual_joining = outputs(make_perturbation("char.repeat.v1"), "دار", "ar")
    assert not any(TATWEEL in r.text for r in no_dual_joining)


def test_repeat_never_strands_a_thai_leading_vowel() -> None:
    for result in outputs(make_perturbation("char.repeat.v1"), "เมือง แม่น้ำ ไทย", "th", seeds=60):
        assert ill_formed(result.text) == 0
        assert "เเ" not in result.text and "แแ" not in result.text and "ไไ" not in result.text


def test_repeat_rejects_bad_max_repeat() -> None:
    with pytest.raises(ConfigError):
        make_perturbation("char.repeat.v1", {"max_repeat": 0})


# --- char.punct.v1 -------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", list(TEXTS))
def test_punct_keeps_tokens_and_uses_the_script_marks(lang: str) -> None:
    text = nfc(TEXTS[lang])
    script = {"en": "Latn", "de": "Latn", "vi": "Latn", "tr": "Latn", "el": "Grek", "ru": "Cyrl", "ar": "Arab",
              "he": "Hebr", "hi": "Deva", "th": "Thai", "zh": "Hani", "ja": "Hira", "ko": "Hang"}[lang]
    allowed = set(PUNCT_BY_SCRIPT[script]) | ({"。", "、", "！", "？"} if lang == "ja" else set())
    for result in outputs(PunctuationNoise(), text, lang):
        assert len(result.text.split()) == len(text.split())
        for old, new in _new_chars(text, result):
            added = [ch for ch in new if unicodedata.category(ch)[0] == "P" and new.count(ch) > old.count(ch)]
            assert set(added) <= allowed, (old, new)


def test_punct_language_specific_marks() -> None:
    ja = {ch for r in outputs(PunctuationNoise(ops=("insert",)), "東京大学", "ja") for ch in r.text}
    zh = {ch for r in outputs(PunctuationNoise(ops=("insert",)), "北京大学", "zh") for ch in r.text}
    assert "，" not in ja and "，" in zh
    ur = {ch for r in outputs(PunctuationNoise(ops=("insert",)), "سالگیرہ مبارک ہو", "ur") for ch in r.text}
    assert "۔" in ur
    th = {ch for r in outputs(PunctuationNoise(), "ภาษาไทยเป็นภาษาที่สวยงาม", "th") for ch in r.text}
    assert th - set("ภาษาไทยเป็นภาษาที่สวยงาม") <= {"!", "?"}


def test_punct_never_removes_a_standalone_token() -> None:
    text = "Hello , world ! ( ok )"
    for result in outputs(PunctuationNoise(), text, "en"):
        assert len(result.text.split()) == len(text.split())
        for tok in (",", "!", "(", ")"):
            assert tok in result.text.split()


def test_punct_boundaries_and_ops() -> None:
    words = boundary_words("¿Qué? «Hola», dijo.", "es")
    assert [(w.lead, w.trail) for w in words] == [
        (((0, 1),), ((4, 5),)), (((6, 7),), ((11, 12), (12, 13))), ((), ((18, 19),))]
    result = PunctuationNoise(ops=("delete",)).perturb("no marks here", 1.0, derive_rng(0), "en")
    assert not result.applied and result.reason
    outs = {r.text for r in outputs(PunctuationNoise(ops=("substitute",)), "Hi. Yes!", "en")}
    assert all(len(t) == len("Hi. Yes!") and t[:2] == "Hi" and t[4:7] == "Yes" for t in outs)
    with pytest.raises(ConfigError):
        PunctuationNoise(ops=("swap",))
    with pytest.raises(ConfigError):
        PunctuationNoise(unit="sentence")


# --- parameter variants keep the contract ---------------------------------------------------------

VARIANTS = [
    ("char.ocr.v1", {"multichar": True}),
    ("char.ocr.v1", {"common_only": False, "edits_per_word": 2}),
    ("char.invisible.v1", {"kinds": ("zwj", "bidi"), "edits_per_word": 3}),
    ("char.diacritics.strip.v1", {"whole_word": False}),
    ("char.diacritics.misplace.v1", {"edits_per_word": 2}),
    ("char.case.v1", {"mode": "word", "georgian_mtavruli": True}),
    ("char.case.v1", {"mode": "letter", "edits_per_word": 2}),
    ("char.repeat.v1", {"max_repeat": 3, "arabic_tatweel": False}),
    ("char.punct.v1", {"ops": ("delete", "substitute")}),
    ("char.punct.v1", {"unit": "grapheme"}),
    ("char.repeat.v1", {"unit": "grapheme"}),
]


@pytest.mark.parametrize("pid,params", VARIANTS, ids=[f"{p}-{sorted(k)}" for p, k in VARIANTS])
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inp=INPUTS, severity=st.floats(min_value=0.0, max_value=1.0), seed=st.integers(0, 2**32))
def test_variants_keep_the_contract(pid: str, params: dict, inp: tuple[str, str], severity: float, seed: int) -> None:
    lang, text = inp
    text = nfc(text)
    p = make_perturbation(pid, params)
    result = p.perturb(text, severity, derive_rng(seed, pid, severity, "v"), lang)
    check_result(p, text, severity, result)
    assert p.perturb(text, severity, derive_rng(seed, pid, severity, "v"), lang) == result
