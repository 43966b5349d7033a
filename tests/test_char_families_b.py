"""Exact outputs and targeted behaviour of the word-boundary, real-typo, romanization, jamo and matra
perturbations (attacks/char/whitespace_split.py, whitespace_merge.py, realtypo.py, translit.py, jamo.py,
matra.py).

The expected strings were produced with `derive_rng(7, pid, 0.5, lang, "text")` and checked by eye:
splits fall between whole clusters, merges only delete spaces, typos are observed misspellings from
attacks/resources/typos in the word's case, romanizations read as people type them, jamo edits recompose
into one precomposed syllable, matra edits swap/drop/add one mark. The tests below make the same checks
mechanically. To print them again after an intended change (which needs a `.v2` id):
`python -c "from tests.test_char_families_b import *; print({p: {k: run(p, *k).text for k in c} for p, c in EXPECTED.items()})"`
"""
from __future__ import annotations

import csv
import unicodedata
from collections import Counter
from importlib import resources

import pytest

from attacks.char._romanize import romanize_hangul, romanize_indic, romanize_kana, to_devanagari
from attacks.char.jamo import decompose, syllable_edits
from attacks.char.matra import BLOCKS, matra_edits, script_marks
from attacks.char.realtypo import TYPO_LANGS, split_affixes, typo_table
from attacks.char.translit import romanize_word
from harness.errors import ConfigError
from harness.perturbation import PerturbResult, make_perturbation
from harness.rng import derive_rng
from harness.text import char_script, detached_marks, graphemes, ill_formed, is_mark, nfc, word_spans

SPLIT, MERGE = "char.whitespace.split.v1", "char.whitespace.merge.v1"
REALTYPO, TRANSLIT, JAMO, MATRA = "char.realtypo.v1", "char.translit.v1", "char.jamo.v1", "char.matra.v1"


def run(pid: str, lang: str, text: str, severity: float = 0.5, seed: int = 7, **params) -> PerturbResult:
    p = make_perturbation(pid, params or None)
    return p.perturb(text, severity, derive_rng(seed, pid, severity, lang, "text"), lang)


def changed(text: str, result: PerturbResult) -> list[tuple[str, str]]:
    return [(text[s.old_start:s.old_end], result.text[s.new_start:s.new_end]) for s in result.alignment]


def apply_alignment(text: str, result: PerturbResult) -> str:
    pieces, cursor = [], 0
    for s in result.alignment:
        pieces += [text[cursor:s.old_start], result.text[s.new_start:s.new_end]]
        cursor = s.old_end
    return "".join(pieces) + text[cursor:]


# --- exact outputs -------------------------------------------------------------------------------

EN = "The quick brown fox jumps over the lazy dog."
HI = "इस दवाई को हर छः घंटे लेना।"
KO = "나는 이번 겨울에 처음으로 스키를 타러 갔다."
TA = "தானம் தவமிரண்டும் தங்கா வியனுலகம்"

EXPECTED: dict[str, dict[tuple[str, str], str]] = {
    SPLIT: {
        ("en", EN): "The q uick brown f ox j umps over the lazy do g.",
        ("hi", "क्षत्रिय नमस्ते किताब"): "क्षत्रिय नमस्ते किता ब",
        ("ru", "Привет, мир! Как дела?"): "Привет, мир! Ка к д ела?",
        ("ar", "اللُّغَةُ العَرَبِيَّةُ جَمِيلَةٌ"): "اللُّ غَةُ العَرَبِيَّةُ جَمِي لَةٌ",
    },
    MERGE: {
        ("en", EN): "The quick brownfox jumpsover thelazydog.",
        ("hi", "क्षत्रिय नमस्ते किताब"): "क्षत्रिय नमस्तेकिताब",
        ("ru", "Привет, мир! Как дела?"): "Привет, мир! Какдела?",
        ("ko", KO): "나는 이번 겨울에처음으로 스키를타러갔다.",
    },
    REALTYPO: {
        ("en", "Mary said she didn't know where Tom was."): "Marry said shis didn'c kow where Tom was.",
        ("de", "Die Gemeinde hat einen neuen Abgeordneten gewählt."): "Die Gebeinde hat einen neuen Abgeordneten gewählt.",
        ("es", "¿Cómo puedo reservar una mesa en el restaurante?"): "¿Como puedo reservar un mesa en el restaurante?",
        ("fr", "Je voudrais ajouter cette chanson à ma liste."): "Je voudrais ajouté cette chansons à ma liste.",
        ("hi", "मुझे घर में कृपया यह किताब दीजिए"): "मुझे घर मे कृप्या यह किताब दीजिए",
        ("vi", "Lẽ ra anh ấy phải thận trọng hơn."): "Lẻ rap anh ấy phải thận trọng hơn.",
    },
    TRANSLIT: {
        ("hi", HI): "इस davai ko हर chhah घंटे lena।",
        ("ar", "كان سامي يربح الكثير من المال."): "kan sami يربح الكثير mn المال.",
        ("ru", "Привет, мир! Как дела?"): "Privet, мир! Как dela?",
        ("ko", KO): "naneun ibeon gyeoure cheoeumeuro 스키를 타러 갔다.",
        ("ta", TA): "thanam தவமிரண்டும் thanga வியனுலகம்",
        ("zh", "我爱北京天安门"): "woai北京天安门",
    },
    JAMO: {
        ("ko", KO): "나느 이번 겨울에 처음으로 스키를 탓러 갔답.",
        ("ko", "한국어 텍스트입니다"): "한국억 텍스트입니다",
    },
    MATRA: {
        ("hi", HI): "इस दवाई को ह्र छः घँटे लेना।",
        ("bn", "উনি কি কাছাকাছি কোথাও থাকেন?"): "উনি কী কাছাকাছী কোথাও থাকেন?",
        ("ta", TA): "தானம தவமீரண்டும் தங்கா வியனுலகம்",
        ("pa", "ਰੀਡਿਰੈਕਟ ਰਾਹਤ ਫ਼ਤਿਹ ਅਲੀ ਖ਼ਾਨ"): "ਰੀਡਿਰੈਕਟ ਰਾਹ੍ਤ ਫ਼ਤਿਹ ਅਲਿ ਖਾਨ",
        ("ml", "എന്റെ വലതുകണ്ണിലെ കാഴ്ച"): "എന്റെ വലതുകണ്ണിലെ കാഴച",
    },
}
CASES = [(pid, key) for pid, cases in EXPECTED.items() for key in cases]


@pytest.mark.parametrize(("pid", "key"), CASES, ids=[f"{p}-{k[0]}" for p, k in CASES])
def test_exact_output(pid: str, key: tuple[str, str]) -> None:
    lang, text = key
    result = run(pid, lang, text)
    assert result.text == EXPECTED[pid][key]
    assert result.applied and apply_alignment(text, result) == result.text


# --- split / merge --------------------------------------------------------------------------------

SPACED_TEXTS = [
    ("en", EN), ("en", "Hello,  world!\tIt's\nme."), ("hi", "मैं Facebook पर हूँ, ok? 123 🙂"),
    ("ar", "كان سامي يربح الكثير من المال."), ("ko", KO), ("ru", "Привет, мир! Как дела?"),
    ("ta", TA), ("he", "שָׁלוֹם עוֹלָם"), ("vi", "Tiếng Việt: q\u0303uê x\u0301a"),
]


@pytest.mark.parametrize("pid", [SPLIT, MERGE])
@pytest.mark.parametrize(("lang", "text"), SPACED_TEXTS)
def test_split_merge_alignment_reproduces_the_output(pid: str, lang: str, text: str) -> None:
    p = make_perturbation(pid)
    assert not p.keeps_token_count
    for seed in range(100):
        for severity in (0.3, 1.0):
            result = p.perturb(text, severity, derive_rng(seed, pid, severity, lang), lang)
            if not result.applied:
                continue
            assert apply_alignment(text, result) == result.text
            assert ill_formed(result.text) <= ill_formed(text) and nfc(result.text) == result.text
            shift = len(result.text.split()) - len(text.split())
            assert shift == (result.n_edited if pid == SPLIT else -result.n_edited)


def test_split_inserts_one_space_between_letter_clusters() -> None:
    for seed in range(200):
        text = "क्षत्रिय नमस्ते किताब"
        result = run(SPLIT, "hi", text, 1.0, seed)
        for old, new in changed(text, result):
            assert new.replace(" ", "", 1) == old and new.count(" ") == 1
            left, right = new.split(" ")
            assert graphemes(left) + graphemes(right) == graphemes(old)  # whole clusters on each side


def test_merge_one_span_covers_both_words_and_keeps_line_breaks() -> None:
    result = run(MERGE, "en", "see you", 1.0)
    assert result.text == "seeyou"
    assert [(s.old_start, s.old_end, s.new_start, s.new_end) for s in result.alignment] == [(0, 7, 0, 6)]
    for seed in range(50):
        assert run(MERGE, "en", "line one\nline two", 1.0, seed).text == "lineone\nlinetwo"


@pytest.mark.parametrize("pid", [SPLIT, MERGE])
@pytest.mark.parametrize(("lang", "text", "script"), [
    ("th", "ภาษาไทยเป็นภาษาที่สวยงาม", "Thai"), ("zh", "我爱北京 天安门", "Hani"), ("ja", "日本語の テキストです", "Hani"),
    ("my", "စံထွန်း၊ စဝ်၊ မိုင်းပွန်စော်ဘွား", "Mymr"), ("km", "ភាសាខ្មែរ គឺជា", "Khmr"), ("lo", "ພາສາລາວ ແມ່ນ", "Laoo"),
])
def test_split_merge_not_applicable_to_unspaced_scripts(pid: str, lang: str, text: str, script: str) -> None:
    result = run(pid, lang, text, 1.0)
    assert not result.applied and result.text == text
    assert "without spaces" in result.reason and script in result.reason


def test_split_min_part_and_bad_parameters() -> None:
    assert make_perturbation(SPLIT, {"min_part": 2}).cut_points("hello") == [2, 3]
    assert make_perturbation(SPLIT, {"min_part": 3}).cut_points("hello") == []
    assert make_perturbation(SPLIT).cut_points("don't") == [1, 2]  # never next to the apostrophe
    with pytest.raises(ConfigError):
        make_perturbation(SPLIT, {"min_part": 0})


# --- real typos -----------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["ru", "pt", "ja", "und", "xx"])
def test_realtypo_without_a_list_is_not_applied(lang: str) -> None:
    result = run(REALTYPO, lang, "Hello world где", 1.0)
    assert not result.applied and result.text == "Hello world где"
    assert result.reason == f"no typo list for {lang}"


def test_realtypo_region_codes_use_the_language_list() -> None:
    assert run(REALTYPO, "de-CH", "Die Gemeinde", 1.0).text == run(REALTYPO, "de-CH", "Die Gemeinde", 1.0).text
    assert run(REALTYPO, "de-CH", "Die Gemeinde", 1.0).applied


@pytest.mark.parametrize(("lang", "text"), [(k[0], k[1]) for k in EXPECTED[REALTYPO]])
def test_realtypo_replacements_come_from_the_list_in_the_words_case(lang: str, text: str) -> None:
    table = typo_table(lang)
    for seed in range(30):
        result = run(REALTYPO, lang, text, 1.0, seed)
        for old, new in changed(text, result):
            pre, core, post = split_affixes(old)
            assert new.startswith(pre) and new.endswith(post), "punctuation must stay"
            typo = new[len(pre):len(new) - len(post)]
            assert typo.lower() in table[core.lower()].typos
            if core[0].isupper():
                assert typo[0].isupper()
            if core.islower():
                assert typo.islower() or not any(c.isalpha() and c.lower() != c.upper() for c in typo)


def test_realtypo_case_patterns() -> None:
    for seed in range(20):
        assert run(REALTYPO, "hi", "में", 1.0, seed).applied
        out = run(REALTYPO, "de", "GEMEINDE Gemeinde gemeinde", 1.0, seed).text.split()
        assert out[0].isupper() and out[1][0].isupper() and out[1][1:].islower() and out[2].islower()
    assert not run(REALTYPO, "en", "iPhone McDonald", 1.0).applied  # mixed case is left alone


def test_realtypo_samples_weighted_by_count() -> None:
    typos = typo_table("hi")["में"]
    draws = Counter(run(REALTYPO, "hi", "में", 1.0, seed).text for seed in range(400))
    top = typos.typos[0]  # मे: 83 of 97 observations
    assert top == "मे" and draws[top] > 300
    assert set(draws) <= set(typos.typos)


def test_typo_resources() -> None:
    folder = resources.files("attacks") / "resources" / "typos"
    readme = (folder / "README.md").read_text(encoding="utf-8")
    for needle in ("hroest/spellcheck-data", "0f99bc516a3480733d7b42f70fe6b4554d346d44", "Viwiki-spelling",
                   "multilingual-robust-contrastive-pretraining", "nlpaug==1.1.11", "MIT", "CC BY 4.0", "Apache-2.0"):
        assert needle in readme
    for lang in TYPO_LANGS:
        with (folder / f"{lang}.tsv").open(encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
        assert rows[0] == ["correct", "typo", "count"] and len(rows) > 100
        for correct, typo, count in rows[1:]:
            assert correct == nfc(correct).lower() and typo == nfc(typo).lower() and correct != typo
            assert int(count) >= 1 and not any(c.isspace() for c in correct + typo)


# --- romanization ---------------------------------------------------------------------------------

ROMANIZED = {
    ("hi", "नमस्ते"): "namaste", ("hi", "किताब"): "kitab", ("hi", "हिंदी"): "hindi", ("hi", "मैं"): "main",
    ("hi", "हूँ"): "hun", ("hi", "ज्ञान"): "gyan", ("hi", "मित्र"): "mitra", ("hi", "पढ़ाई"): "parhai",
    ("mr", "तुम्हाला"): "tumhala", ("bn", "ভালোবাসি"): "bhalobasi", ("gu", "પુત્રી"): "putri",
    ("pa", "ਪੰਜਾਬੀ"): "panjabi", ("pa", "ਸੱਚ"): "sachch", ("or", "ଭାଷା"): "bhasha",
    ("ta", "தமிழ்"): "thamizh", ("ta", "தங்கம்"): "thangam", ("te", "మంచిది"): "manchidi",
    ("kn", "ಕನ್ನಡ"): "kannada", ("ml", "മലയാളം"): "malayalam", ("ml", "എന്റെ"): "ente",
    ("ar", "مرحبا"): "mr7ba", ("ar", "العَرَبِيَّةُ"): "al3arabiyya", ("ur", "سالگیرہ"): "salgirh",
    ("he", "שָׁלוֹם"): "shalom", ("ru", "Привет,"): "Privet,", ("el", "Καλημέρα"): "Kalimera",
    ("ka", "ბაღში"): "baghshi", ("hy", "Բարեւ"): "Barew", ("th", "ภาษา"): "phasa", ("th", "ชั่วโมง"): "chuamong",
    ("ko", "한국어"): "hangugeo", ("ko", "갔다."): "gatda.", ("zh", "北京"): "beijing",
    ("ja", "テキスト"): "tekisuto", ("ja", "がっこう"): "gakkou", ("ja", "きょう"): "kyou", ("ja", "スーパー"): "suupaa",
}


@pytest.mark.parametrize(("key", "want"), ROMANIZED.items(), ids=[f"{k[0]}-{v}" for k, v in ROMANIZED.items()])
def test_romanized_words(key: tuple[str, str], want: str) -> None:
    assert romanize_word(key[1], key[0], "casual") == want


def test_indic_schemes() -> None:
    assert romanize_indic("किताब", "Deva", "itrans") == "kitAba" and romanize_indic("किताब", "Deva", "hk") == "kitAba"
    assert romanize_indic("क्षत्रिय", "Deva", "itrans") == "kShatriya" and romanize_indic("क्षत्रिय", "Deva", "hk") == "kSatriya"
    assert run(TRANSLIT, "hi", "किताब", 1.0, scheme="itrans").text == "kitAba"
    with pytest.raises(ConfigError):
        make_perturbation(TRANSLIT, {"scheme": "klingon"})
    assert to_devanagari("കാഴ്ചർ", "Mlym") == "काऴ्चर्"  # chillu rr -> ra + virama


TRANSLIT_TEXTS = [
    ("hi", HI), ("hi", "क्षत्रिय नमस्ते किताब हिंदी में पढ़ाई"), ("mr", "तुम्हाला कॉफीत साखर हवी आहे का?"),
    ("bn", "উনি কি কাছাকাছি কোথাও থাকেন?"), ("ta", TA), ("te", "తనని ఒంటరిగా వదిలెయ్యడం మంచిది"),
    ("ml", "എന്റെ വലതുകണ്ണിലെ കാഴ്ച എനിക്ക് രണ്ടു വർഷം മുമ്പ് നഷ്ടമായി."), ("gu", "તેમનાં પુત્રી વર્ષા અડાલજા જાણીતાં લેખિકા છે ."),
    ("pa", "ਰੀਡਿਰੈਕਟ ਰਾਹਤ ਫ਼ਤਿਹ ਅਲੀ ਖ਼ਾਨ"), ("kn", "ಕನ್ನಡ ನಮಸ್ಕಾರ"), ("or", "ଓଡ଼ିଆ ଭାଷା"),
    ("ar", "اللُّغَةُ العَرَبِيَّةُ جَمِيلَةٌ"), ("ur", "سالگیرہ مبارک ہو موریال ۔"), ("fa", "سلام دنیا"),
    ("he", "שָׁלוֹם עוֹלָם"), ("ru", "Привет, мир! Как дела?"), ("el", "Καλημέρα κόσμε"), ("ka", "ბაღში ბევრი წითელი ყვავილებია."),
    ("hy", "Բարեւ աշխարհ"), ("th", "เหลือเวลาอีกกี่ชั่วโมงกว่าจะเดินทางไปถึง?"), ("ko", KO), ("zh", "我爱北京天安门"),
    ("ja", "トムはチェスが好きではない。"),
]


@pytest.mark.parametrize(("lang", "text"), TRANSLIT_TEXTS)
def test_translit_leaves_no_source_script_characters(lang: str, text: str) -> None:
    scripts = {char_script(c) for c in text if c.isalpha()} - {"Latn"}
    result = run(TRANSLIT, lang, text, 1.0)
    assert result.applied and len(result.text.split()) == len(text.split())
    leftover = {c for c in result.text if char_script(c) in scripts and (c.isalpha() or is_mark(c))}
    if lang == "ja":  # kanji are not romanized (no reading dictionary): the words holding them stay whole
        with_kanji = {c for a, b in word_spans(text, lang) if any(char_script(c) == "Hani" for c in text[a:b])
                      for c in text[a:b]}
        assert leftover and leftover <= with_kanji
        assert result.text.startswith("tomuhachesuga")
    else:
        assert not leftover, result.text
    for old, new in changed(text, result):
        assert new == nfc(new) and not any(is_mark(c) for c in new)
        assert all(c.isascii() for c in new if c not in old)


def test_translit_japanese_kanji_and_non_chinese_han_are_not_romanized() -> None:
    assert romanize_word("日本語", "ja", "casual") is None and romanize_word("北京", "und", "casual") is None
    assert not run(TRANSLIT, "ja", "日本語", 1.0).applied
    assert romanize_word("北京", "zh-TW", "casual") == "beijing"


def test_translit_latin_only_text_is_not_applied() -> None:
    result = run(TRANSLIT, "en", EN, 1.0)
    assert not result.applied and result.reason == "no eligible word"


def test_kana_and_hangul_rules() -> None:
    assert romanize_kana("ファイル") == "fairu" and romanize_kana("ちゃん") == "chan" and romanize_kana("マッチ") == "matchi"
    assert romanize_hangul("텍스트입니다") == "tekseuteuipnida" and romanize_hangul("좋아") == "joa"


# --- jamo -----------------------------------------------------------------------------------------

_CONJOINING = [(0x1100, 0x11FF), (0xA960, 0xA97F), (0xD7B0, 0xD7FF)]


def test_jamo_edits_change_one_jamo_and_recompose() -> None:
    text = KO + " 한국어 텍스트입니다 없다 했다 의사 닭"
    for seed in range(300):
        result = run(JAMO, "ko", text, 1.0, seed)
        assert result.applied and nfc(result.text) == result.text
        assert not any(lo <= ord(c) <= hi for c in result.text for lo, hi in _CONJOINING)
        for old, new in changed(text, result):
            assert len(old) == len(new)
            (i,) = [k for k in range(len(old)) if old[k] != new[k]]
            a, b = decompose(old[i]), decompose(new[i])
            assert a is not None and b is not None
            assert sum(x != y for x, y in zip(a, b)) == 1, (old, new)


def test_jamo_operations() -> None:
    ops = dict(syllable_edits("했"))
    assert ops["vowel"] == ("헸",) and ops["final"] == ("햇",) and ops["drop_final"] == ("해",)
    assert dict(syllable_edits("없"))["final"] == ("업",) and dict(syllable_edits("게"))["vowel"] == ("개",)
    assert dict(syllable_edits("가"))["tense"] == ("까",) and len(dict(syllable_edits("가"))["add_final"]) == 7
    assert syllable_edits("a") == () and syllable_edits("ㄱ") == ()
    assert not run(JAMO, "ko", "ㅋㅋㅋ hello", 1.0).applied


# --- matra ----------------------------------------------------------------------------------------

MATRA_TEXTS = [
    ("hi", "क्षत्रिय नमस्ते किताब हिंदी में पढ़ाई हूँ क्‍या"), ("bn", "উনি কি কাছাকাছি কোথাও থাকেন? বড়ো"),
    ("pa", "ਰੀਡਿਰੈਕਟ ਰਾਹਤ ਫ਼ਤਿਹ ਅਲੀ ਖ਼ਾਨ ਪੰਜਾਬੀ ਸੱਚ"), ("gu", "તેમનાં પુત્રી વર્ષા અડાલજા જાણીતાં લેખિકા છે ."),
    ("or", "ଓଡ଼ିଆ ଭାଷା"), ("ta", TA + " தமிழ் எழுத்து"), ("te", "తనని ఒంటరిగా వదిలెయ్యడం మంచిది"),
    ("kn", "ಕನ್ನಡ ನಮಸ್ಕಾರ ಎಲ್ಲ"), ("ml", "എന്റെ വലതുകണ്ണിലെ കാഴ്ച എനിക്ക് രണ്ടു വർഷം മുമ്പ് നഷ്ടമായി."),
]


@pytest.mark.parametrize(("lang", "text"), MATRA_TEXTS)
def test_matra_never_detaches_a_mark(lang: str, text: str) -> None:
    p = make_perturbation(MATRA)
    base = detached_marks(text)
    seen = set()
    for seed in range(2000):
        result = p.perturb(text, 1.0, derive_rng(seed, MATRA, lang), lang)
        assert result.applied
        assert detached_marks(result.text) == base and ill_formed(result.text) <= ill_formed(text), result.text
        assert nfc(result.text) == result.text
        seen.add(result.text)
    assert len(seen) >= 2


def test_matra_edit_kinds() -> None:
    word = "ज़िंदगी"
    outs = {word[:s] + new + word[e:] for s, e, new in matra_edits(word)}
    assert outs == {"जिंदगी",  # nukta dropped
                    "ज़ींदगी",  # i -> ii
                    "ज़िँदगी", "ज़िदगी",  # anusvara -> candrabindu, anusvara dropped
                    "ज़िंद्गी",  # virama added: a conjunct formed
                    "ज़िंदगि"}  # ii -> i
    assert {w[:s] + n + w[e:] for w in ["क्‍या"] for s, e, n in matra_edits(w)} == {"कया"}  # joiner goes too
    assert matra_edits("ि") == () and matra_edits("Aि") == ()  # no base of its script: left alone


def test_matra_tables_cover_every_declared_script() -> None:
    for script in BLOCKS:
        marks = script_marks(script)
        assert len(marks.swaps) >= 8 and unicodedata.name(marks.virama).endswith("SIGN VIRAMA")
        for a, b in marks.swaps.items():
            assert marks.swaps[b] == a and char_script(a) == char_script(b) == script


@pytest.mark.parametrize("pid", ["char.whitespace.split.v1", "char.whitespace.merge.v1"])
@pytest.mark.parametrize("text,lang", [("नमस्ते दुनिया यह एक परीक्षण है", "hi"), ("the cat sat on the warm mat today", "en")])
def test_whitespace_grapheme_unit_is_the_word_unit_at_the_grapheme_share(pid, text, lang):
    """unit=grapheme edits as many places as the word unit at grapheme_word_share (same RNG draws)."""
    import random as _random

    from harness.perturbation import grapheme_word_share, make_perturbation

    word, graph = make_perturbation(pid), make_perturbation(pid, {"unit": "grapheme"})
    n_sites = word.perturb(text, 1.0, _random.Random(0), lang).n_eligible
    for sev in (0.1, 0.3, 0.5):
        for seed in range(20):
            expected = word.perturb(text, grapheme_word_share(text, sev, n_sites), _random.Random(seed), lang)
            assert graph.perturb(text, sev, _random.Random(seed), lang) == expected


def test_whitespace_unit_is_validated():
    from harness.errors import ConfigError
    from harness.perturbation import make_perturbation

    with pytest.raises(ConfigError, match="unit must be one of"):
        make_perturbation("char.whitespace.merge.v1", {"unit": "letters"})
