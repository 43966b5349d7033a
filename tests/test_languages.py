"""Language metadata: exact rows, the langcodes (CLDR) cross-check, Joshi et al. tiers, code-mixed pairs, `ls`."""
from __future__ import annotations

import json

import langcodes
import pytest
from _util import SHARED, run_cli

from harness.languages import (
    EXTRA_LANGUAGES,
    LANGCODES_NAME_DIFFERENCES,
    LANGCODES_SCRIPT_DIFFERENCES,
    LANGUAGES,
    Language,
    get_language,
    language_or_unknown,
)
from harness.text import char_script

PAIRS = ("hi-en", "es-en", "ta-en", "ml-en", "kn-en")
MONOLINGUAL = [code for code, lang in LANGUAGES.items() if not lang.code_mixed]


def test_fifty_xtreme_r_languages_and_five_pairs():
    assert len(MONOLINGUAL) == 50
    assert sorted(c for c, lang in LANGUAGES.items() if lang.code_mixed) == sorted(PAIRS)
    assert "kn" not in LANGUAGES and set(EXTRA_LANGUAGES) == {"kn"}


@pytest.mark.parametrize("code, row", [
    ("en", Language("en", "English", "Latn", "Indo-European", "Germanic", 5)),
    ("hi", Language("hi", "Hindi", "Deva", "Indo-European", "Indic", 4)),
    ("th", Language("th", "Thai", "Thai", "Tai-Kadai", "Kam-Tai", 3)),
    ("zh", Language("zh", "Chinese", "Hani", "Sino-Tibetan", "Chinese", 5)),
    ("sw", Language("sw", "Swahili", "Latn", "Niger-Congo", "Bantoid", 2)),
    ("qu", Language("qu", "Quechua", "Latn", "Quechuan", "Quechuan", 1)),
    ("ht", Language("ht", "Haitian Creole", "Latn", "Creole", "Creole", 2)),
    ("hi-en", Language("hi-en", "Hindi–English code-mixed", "Latn", "Indo-European", "Indic", 4,
                       matrix="hi", embedded="en")),
    ("kn-en", Language("kn-en", "Kannada–English code-mixed", "Latn", "Dravidian", "Southern Dravidian", 1,
                       matrix="kn", embedded="en")),
])
def test_exact_rows(code, row):
    assert get_language(code) == row


def test_joshi_tiers():
    assert all(isinstance(lang.tier, int) and 0 <= lang.tier <= 5 for _, lang in LANGUAGES.items())
    assert EXTRA_LANGUAGES["kn"].tier == 1
    by_tier = {t: {c for c in MONOLINGUAL if LANGUAGES.get(c).tier == t} for t in range(6)}
    assert by_tier[5] == {"ar", "de", "en", "es", "fr", "ja", "zh"}  # the paper's seven "winners"
    assert by_tier[0] == set()
    assert {"hi", "ko", "ru", "nl", "vi", "hu"} <= by_tier[4]
    assert {"sw", "yo", "wo", "mr", "pa", "ht"} <= by_tier[2]
    assert {"qu", "jv", "my", "te", "gu", "ml", "az"} <= by_tier[1]


def test_names_match_langcodes_except_documented():
    for code in [*MONOLINGUAL, *EXTRA_LANGUAGES]:
        ours = language_or_unknown(code).name
        theirs = langcodes.Language.get(code).display_name()
        assert theirs == LANGCODES_NAME_DIFFERENCES.get(code, ours), code
    assert LANGCODES_NAME_DIFFERENCES == {"bn": "Bangla", "tl": "Filipino"}
    assert get_language("bn").name == "Bengali" and get_language("tl").name == "Tagalog"
    assert langcodes.Language.get("tl").language == "fil"  # why tl differs: langcodes normalises tl to fil
    assert langcodes.Language.get("tl", normalize=False).display_name() == "Tagalog"
    assert get_language("ht").name == langcodes.Language.get("ht").display_name() == "Haitian Creole"


def test_scripts_match_langcodes_except_documented():
    for code in [*MONOLINGUAL, *EXTRA_LANGUAGES]:
        ours = language_or_unknown(code).script
        theirs = langcodes.Language.get(code).maximize().script
        assert theirs == LANGCODES_SCRIPT_DIFFERENCES.get(code, ours), code
    assert LANGCODES_SCRIPT_DIFFERENCES == {"ko": "Kore", "zh": "Hans"}
    # the project's codes are char_script's: Hangul is Hang and every Han character Hani (no Kore, no Hans)
    assert char_script("한") == get_language("ko").script == "Hang"
    assert char_script("汉") == char_script("漢") == get_language("zh").script == "Hani"
    assert get_language("ja").script == langcodes.Language.get("ja").maximize().script == "Jpan"


def test_pairs_derive_from_matrix_and_embedded():
    for code in PAIRS:
        pair = get_language(code)
        m, e = language_or_unknown(pair.matrix), get_language(pair.embedded)
        assert code == f"{pair.matrix}-{pair.embedded}" and pair.embedded == "en"
        assert pair.name == f"{m.name}–{e.name} code-mixed"
        assert (pair.family, pair.genus, pair.tier) == (m.family, m.genus, m.tier)
        assert pair.script == "Latn"
    assert all(lang.matrix is None and lang.embedded is None for c in MONOLINGUAL for lang in [get_language(c)])


def test_pair_script_is_what_the_shared_data_mostly_uses():
    files = {"hi-en": "sentimix_hin_eng", "es-en": "sentimix_spa_eng", "ta-en": "dravidian_tam_eng_sentiment",
             "ml-en": "dravidian_mal_eng_sentiment", "kn-en": "dravidian_kan_eng_offensive"}
    for code, name in files.items():
        path = SHARED / "code_mixed" / f"{name}.jsonl"
        if not path.exists():
            pytest.skip(f"{path} not present")
        counts: dict[str, int] = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            for ch in json.loads(line)["text"]:
                if ch.isalpha():
                    counts[char_script(ch)] = counts.get(char_script(ch), 0) + 1
        assert max(counts, key=counts.get) == get_language(code).script, (code, counts)


def test_language_or_unknown():
    assert language_or_unknown("hi") is get_language("hi")
    assert language_or_unknown("kn") == Language("kn", "Kannada", "Knda", "Dravidian", "Southern Dravidian", 1)
    assert language_or_unknown("xx") == Language("xx", "xx", "Zzzz", "unknown", "unknown", None)


def test_ls_languages_json(capsys):
    code, out, _ = run_cli(["ls", "languages", "--format", "json"], capsys)
    items = json.loads(out)
    assert code == 0 and len(items) == 50 + 5
    by_id = {i["id"]: i for i in items}
    assert by_id["hi"] == {"id": "hi", "name": "Hindi", "script": "Deva", "family": "Indo-European",
                           "genus": "Indic", "tier": 4, "matrix": None, "embedded": None}
    assert by_id["hi-en"] == {"id": "hi-en", "name": "Hindi–English code-mixed", "script": "Latn",
                              "family": "Indo-European", "genus": "Indic", "tier": 4, "matrix": "hi", "embedded": "en"}


def test_ls_languages_table(capsys):
    code, out, _ = run_cli(["ls", "languages"], capsys)
    assert code == 0 and "tier" in out and "matrix" in out and "None" not in out
