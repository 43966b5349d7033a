"""Exact outputs and targeted behaviour of the character perturbations in attacks/char/.

The expected strings were produced with `derive_rng(7, pid, 0.5, lang, "text")` and checked by eye
(keyboard neighbours are neighbours on the layout, homoglyphs come from another script and look
alike, substitutions and insertions stay in the word's script); the helper checks below make
the same checks mechanically. To regenerate after an intended change (which needs a `.v2` id):
`python -c "from tests.test_char_perturbations import *; print({p: {l: run(p, t, l).text for l, t in TEXTS.items()} for p in MINE})"`
"""
from __future__ import annotations

from importlib import resources

import pytest
from confusable_homoglyphs.confusables import confusables_data

from attacks.char._alphabet import alphabet, editing, static_alphabet
from attacks.char._keyboards import SCRIPT_DEFAULT_LAYOUT, lang_layout, layout_for, layout_index, load_layout
from attacks.char._unicode import char_class, dangling_vowels
from attacks.char.homoglyph import Homoglyph, homoglyph_table
from attacks.char.keyboard import KeyboardTypo, replacement_table
from harness.perturbation import PERTURBATIONS, PerturbResult, make_perturbation
from harness.rng import derive_rng
from harness.text import char_script, cluster_script, detached_marks, graphemes, is_letter_cluster, word_spans

MINE = ("char.delete.v1", "char.homoglyph.v1", "char.insert.v1", "char.keyboard.v1", "char.substitute.v1")

TEXTS = {
    "en": "The quick brown fox jumps over the lazy dog.",
    "de": "Größere Übungen für Straßenbahnfahrer",
    "hi": "क्षत्रिय नमस्ते किताब",
    "ar": "اللُّغَةُ العَرَبِيَّةُ جَمِيلَةٌ",
    "ru": "Привет, мир! Как дела?",
    "th": "ภาษาไทยเป็นภาษาที่สวยงาม",
}

EXPECTED = {
    "char.delete.v1": {
        "en": "The qick brown fox jumps ver he azy do.",
        "de": "Größere Übungn ür Straßenbahnfahrer",
        "hi": "त्रिय नस्ते किताब",
        "ar": "اللُّغَ العَبِيَّةُ جَمِيلَةٌ",
        "ru": "Приет, мир! ак дела?",
        "th": "ภาาทยเป็ภาษาที่สวยงาม",
    },
    "char.homoglyph.v1": {
        "en": "The գuick brჿwn fоx jumps over the lazყ dog.",
        "de": "Größеre Übungen քür Straßenbahnfahrer",
        "hi": "क्षत्रिय नमस्ते किताब",  # no Devanagari letter in the words has a cross-script homoglyph
        "ar": "اللُّغَةُ العَرَبِيَّةُ جَمِيلَةٌ",  # nor Arabic ones
        "ru": "Привeт, миp! Как дела?",
        "th": "ภาษาไทยเປ็นภาษาที่สวຍงาม",
    },
    "char.insert.v1": {
        "en": "Thei quick brown fodx jumps over tnhe lazyt dokg.",
        "de": "Gröfßere Übungen für Straßenbrahnfahrer",
        "hi": "क्षत्रिय नमस्ते किताझब",
        "ar": "اللُّغَةُ قالعَرَبِيَّةُ جَمِيلَةٌ",
        "ru": "Привет, щмир! Какф дела?",
        "th": "ภาษาณไทยเป็นภอาษาที่สวยฒงาม",
    },
    "char.keyboard.v1": {
        "en": "The quifk browj fox jumps ovwr the lazy rog.",
        "de": "Grlßere Übingen für Straßenbahnfahrer",
        "hi": "क्षत्रिट नमस्ते किताब",
        "ar": "اللٍّغَةُ العَرَبِيَّتُ جَمِيلَةٌ",
        "ru": "Пррвет, пир! Как дела?",
        "th": "ถาษาไทยเป็ตภาษาทีืสวยงาม",
    },
    "char.substitute.v1": {
        "en": "The quiok brown fqx jumpt over fhe lazy dog.",
        "de": "Größwre Übungen für Stäaßenbahnfahrer",
        "hi": "क्षत्रिय नमञ्ते किताब",
        "ar": "اللُّغَةُ العَرَيِيَّةُ جَأِيلَةٌ",
        "ru": "Привед, мир! Мак дела?",
        "th": "ทาษาไทยทป็นภาษาที่สฟยงาม",
    },
}


def run(pid: str, text: str, lang: str, severity: float = 0.5, seed: int = 7) -> PerturbResult:
    return make_perturbation(pid).perturb(text, severity, derive_rng(seed, pid, severity, lang, "text"), lang)


def changed_words(text: str, result: PerturbResult) -> list[tuple[str, str]]:
    return [(text[s.old_start:s.old_end], result.text[s.new_start:s.new_end]) for s in result.alignment]


def replaced_char(old: str, new: str) -> tuple[int, str, str]:
    """(index, old char, new char) for words that differ in exactly one code point."""
    assert len(old) == len(new)
    diffs = [i for i, (a, b) in enumerate(zip(old, new)) if a != b]
    assert len(diffs) == 1, (old, new)
    return diffs[0], old[diffs[0]], new[diffs[0]]


# --- exact outputs -------------------------------------------------------------------------------

@pytest.mark.parametrize("pid", MINE)
@pytest.mark.parametrize("lang", list(TEXTS))
def test_exact_output(pid: str, lang: str) -> None:
    result = run(pid, TEXTS[lang], lang)
    assert result.text == EXPECTED[pid][lang]
    assert result.applied == (result.text != TEXTS[lang])


@pytest.mark.parametrize("lang", list(TEXTS))
def test_keyboard_edits_are_layout_neighbours(lang: str) -> None:
    result = run("char.keyboard.v1", TEXTS[lang], lang)
    neighbours = load_layout(lang)["neighbors"]
    for old, new in changed_words(TEXTS[lang], result):
        _, a, b = replaced_char(old, new)
        assert b in neighbours[a], f"{b!r} is not next to {a!r} on {lang}"


@pytest.mark.parametrize("lang", list(TEXTS))
def test_homoglyph_edits_are_cross_script_confusables(lang: str) -> None:
    result = run("char.homoglyph.v1", TEXTS[lang], lang)
    for old, new in changed_words(TEXTS[lang], result):
        _, a, b = replaced_char(old, new)
        assert b in {e["c"] for e in confusables_data[a]}
        assert char_script(a) != char_script(b)


@pytest.mark.parametrize("lang", list(TEXTS))
def test_substitute_keeps_script_and_marks(lang: str) -> None:
    result = run("char.substitute.v1", TEXTS[lang], lang)
    for old, new in changed_words(TEXTS[lang], result):
        go, gn = graphemes(old), graphemes(new)
        assert len(go) == len(gn)
        (i,) = [k for k in range(len(go)) if go[k] != gn[k]]
        assert go[i][1:] == gn[i][1:], "marks of the cluster must stay"
        assert go[i][0] != gn[i][0] and cluster_script(go[i]) == cluster_script(gn[i])


@pytest.mark.parametrize("lang", list(TEXTS))
def test_insert_adds_one_same_script_letter(lang: str) -> None:
    result = run("char.insert.v1", TEXTS[lang], lang)
    for old, new in changed_words(TEXTS[lang], result):
        go, gn = graphemes(old), graphemes(new)
        assert len(gn) == len(go) + 1
        i = next((k for k in range(len(go)) if go[k] != gn[k]), len(go))
        assert gn[:i] + gn[i + 1:] == go
        assert len(gn[i]) == 1 and is_letter_cluster(gn[i])
        assert char_script(gn[i]) in {cluster_script(g) for g in go if is_letter_cluster(g)}


# --- keyboard -----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("lang", "same_as", "text"),
    [
        ("id", "en", "Saya suka membaca buku di perpustakaan"),  # Indonesian: no layout -> Latn default
        ("sr", "ru", "Добро јутро, како сте данас"),  # Serbian Cyrillic: no layout -> Cyrl default
        ("ne", "hi", "नेपाली भाषा धेरै राम्रो छ"),  # Nepali: no layout -> Deva default
        ("hi", "en", "Facebook Google Twitter"),  # the hi layout has no Latin: the word's script decides
    ],
)
def test_keyboard_falls_back_to_the_script_default_layout(lang: str, same_as: str, text: str) -> None:
    assert layout_for(lang, char_script(text[0])) == same_as
    for seed in range(20):
        got = run("char.keyboard.v1", text, lang, 0.5, seed)
        want = make_perturbation("char.keyboard.v1").perturb(
            text, 0.5, derive_rng(seed, "char.keyboard.v1", 0.5, lang, "text"), same_as)
        assert got == want


def test_keyboard_uses_the_languages_own_layout() -> None:
    assert layout_for("de", "Latn") == "de" and layout_for("mr", "Deva") == "mr" and layout_for("pt-BR", "Latn") == "pt"
    # QWERTZ: 'z' sits next to 't'; on QWERTY 'y' does
    assert "z" in replacement_table("de")["t"] and "y" in replacement_table("en")["t"]


@pytest.mark.parametrize("text", ["我爱北京天安门", "日本語のテキスト", "한국어 텍스트"])
def test_keyboard_on_scripts_without_layout_is_not_applied(text: str) -> None:
    result = run("char.keyboard.v1", text, "zh", 1.0)
    assert not result.applied and result.text == text and result.reason == "no eligible word"
    assert "Hani" not in KeyboardTypo.scripts and "Hang" not in KeyboardTypo.scripts


def test_keyboard_keeps_case() -> None:
    table = replacement_table("en")
    assert table["Q"] == ("W", "A") and table["q"] == ("w", "a")
    assert replacement_table("fr")["É"] == ("A", "Z")  # É is not on AZERTY: shifted forms of é's neighbours
    for seed in range(200):
        out = run("char.keyboard.v1", "HELLO WORLD", "en", 1.0, seed).text
        assert out.isupper() and out != "HELLO WORLD"


def test_keyboard_replaces_letters_with_letters_and_marks_with_marks() -> None:
    for layout in layout_index():
        for ch, cands in replacement_table(layout).items():
            for c in cands:
                assert all(char_class(x) == char_class(ch) for x in c), (layout, ch, c)


# --- homoglyph ----------------------------------------------------------------------------------

def test_homoglyph_table_is_cross_script_single_code_points() -> None:
    table = homoglyph_table()
    assert table["a"] == ("α", "а") and "p" in table["р"]
    for ch, cands in table.items():
        for h in cands:
            assert len(h) == 1 and h.isalpha() and char_script(h) != char_script(ch)
    assert {"Latn", "Cyrl", "Grek"} <= Homoglyph.scripts and "Arab" not in Homoglyph.scripts


# --- alphabets ----------------------------------------------------------------------------------

def test_alphabets() -> None:
    en = alphabet("en", "Latn")
    assert "".join(en.pool) == "abcdefghijklmnopqrstuvwxyz" and "Q" in en.members
    assert en.cased("q", True) == "Q" and en.cased("q", False) == "q"
    union = alphabet("id", "Latn")  # no 'id' layout: union over all shipped layouts
    assert {"ß", "é", "ă", "ş"} <= union.members and union == alphabet("hi", "Latn")
    deva = alphabet("hi", "Deva")
    assert "क" in deva.members and "ि" not in deva.members and "अ" in deva.pool and "अ" not in deva.carriers
    thai = alphabet("th", "Thai")
    assert "ก" in thai.members and not {"า", "เ", "ำ", "ๆ"} & thai.members
    assert alphabet("zh", "Hani", "我爱北京").pool == ("京", "北", "我", "爱")
    assert not alphabet("zh", "Hani") and not static_alphabet("ko", "Hang")
    assert not alphabet("xx", "Zzzz", "ꭰꭱ")


@pytest.mark.parametrize("pid", ["char.insert.v1", "char.substitute.v1"])
def test_scripts_without_layout_draw_from_the_text(pid: str) -> None:
    text = "我爱北京天安门 我们"
    letters = set(text) - {" "}
    for seed in range(100):
        out = run(pid, text, "zh", 1.0, seed).text
        assert set(out) - {" "} <= letters


def test_edit_word_outside_perturb_uses_the_word_as_text() -> None:
    p = make_perturbation("char.substitute.v1")
    assert p.edit_word("北京", derive_rng(1), "zh") in ("京京", "北北")
    assert p.edit_word("北", derive_rng(1), "zh") is None  # one letter, nothing else to draw
    with editing("北京"):
        assert p.eligible("北", "zh")


def test_substitute_and_insert_keep_case() -> None:
    for seed in range(200):
        assert run("char.substitute.v1", "HELLO WORLD", "en", 1.0, seed).text.isupper()
        assert run("char.insert.v1", "NASA UNICEF", "en", 1.0, seed).text.isupper()
        out = run("char.substitute.v1", "Hello", "en", 1.0, seed).text
        assert out[0].isupper() and out[1:].islower()


# --- grapheme safety ----------------------------------------------------------------------------

@pytest.mark.parametrize("pid", PERTURBATIONS.names())
def test_devanagari_never_gets_a_detached_matra(pid: str) -> None:
    text = "क्षत्रिय नमस्ते किताब हिंदी में पढ़ाई"
    p = make_perturbation(pid)
    for seed in range(2000):
        out = p.perturb(text, 1.0, derive_rng(seed, pid, 1.0, "hi"), "hi").text
        assert detached_marks(out) == 0, out


@pytest.mark.parametrize("pid", MINE)
def test_thai_vowel_letters_never_lose_their_consonant(pid: str) -> None:
    text = "ภาษาไทยเป็นภาษาที่สวยงาม เกาะ ไก่ แม่น้ำ"
    p = make_perturbation(pid)
    before = {s: dangling_vowels(graphemes(text[s[0]:s[1]])) for s in word_spans(text)}
    for seed in range(2000):
        result = p.perturb(text, 1.0, derive_rng(seed, pid, 1.0, "th"), "th")
        for span in result.alignment:
            new = result.text[span.new_start:span.new_end]
            assert dangling_vowels(graphemes(new)) <= before[(span.old_start, span.old_end)], new


@pytest.mark.parametrize("pid", MINE)
@pytest.mark.parametrize("lang", ["en", "de", "ru", "hi", "ar"])
def test_severity_one_edits_every_eligible_word(pid: str, lang: str) -> None:
    text = TEXTS[lang]
    p = make_perturbation(pid)
    with editing(text):
        eligible = [w for w in text.split() if p.eligible(w, lang)]
    for seed in range(50):
        result = p.perturb(text, 1.0, derive_rng(seed, pid, 1.0, lang), lang)
        assert result.n_eligible == len(eligible) and result.n_edited == len(eligible)
        changed = [w for w, v in zip(text.split(), result.text.split()) if w != v]
        assert len(changed) == len(eligible)


def test_delete_needs_two_letter_clusters() -> None:
    p = make_perturbation("char.delete.v1")
    assert not p.eligible("a", "en") and not p.eligible("कि", "hi") and not p.eligible("a1", "en")
    assert p.eligible("ab", "en") and p.eligible("किता", "hi")
    result = run("char.delete.v1", "a I 1 ?", "en", 1.0)
    assert not result.applied and result.reason == "no eligible word"


# --- resources ----------------------------------------------------------------------------------

def test_layout_resources() -> None:
    index = layout_index()
    assert len(index) == 34
    for name, script in index.items():
        kb = load_layout(name)
        assert kb["script"] == script and kb["keys"] and kb["neighbors"]
    for script, name in SCRIPT_DEFAULT_LAYOUT.items():
        assert index[name] == script
    assert KeyboardTypo.scripts == frozenset(SCRIPT_DEFAULT_LAYOUT)
    assert lang_layout("EN") == "en" and lang_layout("tr_f") == "tr_f" and lang_layout("zh") is None
    folder = resources.files("attacks") / "resources" / "keyboards"
    assert "X11/MIT" in (folder / "README.md").read_text(encoding="utf-8")
    assert "Permission" in (folder / "COPYING.xkeyboard-config").read_text(encoding="utf-8")
