"""Code-switching (`codemix.lexicon.v1`), the code-mixing index, the shipped lexicons and the CMI wiring of runs."""
from __future__ import annotations

import doctest
import json
import math
import textwrap

import pandas as pd
import pytest
from _util import run_cli, write_jsonl, xnli_rows

import attacks.codemix.cmi as cmi_module
import harness.resources as resources_module
from attacks.codemix.cmi import cmi, is_universal
from attacks.codemix.lexicon import LexiconCodeSwitch
from harness import modelbuild as mb
from harness.errors import ConfigError
from harness.perturbation import PERTURBATIONS, make_perturbation
from harness.resources import LEXICON_DIR, lexicon, lexicon_languages
from harness.rng import derive_rng
from harness.runner import perturb_example
from harness.text import cluster_script, graphemes, is_letter_cluster
from harness.types import Cell, Example

PID = "codemix.lexicon.v1"
DEFAULT_TARGETS = ("hi", "de", "es", "zh")

# The first five distinct premises of the shared English XNLI sample, as `xrobust perturb` keys them
# (`cli-<i>`, field "text", seed 0, severity 0.3). Every replacement was checked by eye against the
# lexicons, e.g. thing -> cosa (en-es), wanted -> 通缉 (en-zh), not -> नही (en-hi), any -> jeden (en-de).
XNLI_CASES = [
    ("That was the primary thing we wanted to save since there wasn't any way to dump a 20-megaton H-bomb off a 30, a C124.",
     "That was the primary cosa we 通缉 to save since allí wasn't jeden way to dump a 20-megaton H-bomb off a 30, a C124.",
     100 * 4 / 23),  # 24 tokens, 1 univ ('30,'), 19 English
    ("So I'm not really sure why.", "So I'm नही really sure why.", 100 * 1 / 6),
    ("The girl that can help me is all the way across town.",
     "The girl das can help me is सब the weise across town.", 25.0),
    ("And, of course, Androv Gromikov didn't answer anything, but we had all the information from the films the U2 had taken.",
     "And, of course, Androv Gromikov didn't answer irgendwas, 不过 we had all the information 从 the films el U2 had tomadas.",
     100 * 5 / 21),
    ("Well it got to where there's two or three aircraft arrive in a week and I didn't know where they're flying to.",
     "Well it got to where there's दो or 三个 aircraft arrive in a week and I didn't know donde they're flying to.",
     100 * 3 / 22),
]


def _run(p: LexiconCodeSwitch, text: str, severity: float = 0.3, key: str = "x", lang: str = "en", seed: int = 0):
    return p.perturb(text, severity, derive_rng(seed, p.id, severity, key, "text"), lang)


def _switched(text: str, out: str, tags: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """(source token, output token, tag) for every token that changed."""
    return [(a, b, t) for a, b, t in zip(text.split(), out.split(), tags) if a != b]


# ----------------------------------------------------------------- the code-mixing index


@pytest.mark.parametrize("tags, expected", [
    ([], 0.0),                                            # n = u = 0
    (["univ", "univ"], 0.0),                              # n = u
    (["en", "en", "en"], 0.0),                            # monolingual
    (["en", "hi"], 50.0),                                 # 100 × (1 − 1/2)
    (["en", "en", "hi", "hi", "univ"], 50.0),             # n=5, u=1: 100 × (1 − 2/4)
    (["en", "en", "en", "hi", "univ", "univ"], 25.0),     # n=6, u=2: 100 × (1 − 3/4)
    (["en", "hi", "de", "es"], 75.0),                     # four languages, one each
    (["en"] * 7 + ["zh"], 12.5),                          # 100 × (1 − 7/8)
    (["hi", "hi", "hi", "en", "univ"], 25.0),             # the majority language need not be English
    (["en", "en", "de", "es", "zh", "univ"], 60.0),       # n=6, u=1: 100 × (1 − 2/5)
])
def test_cmi_hand_computed(tags, expected):
    assert cmi(tags) == expected


def test_cmi_thirds_and_docstring_examples():
    assert cmi(["en", "en", "hi", "univ"]) == pytest.approx(100 / 3)  # n=4, u=1: 100 × (1 − 2/3)
    assert cmi(iter(["de", "en"])) == 50.0
    for module in (cmi_module, resources_module):
        failed, attempted = doctest.testmod(module)
        assert failed == 0 and attempted > 0


def test_universal_tokens_have_no_letter():
    assert [is_universal(t) for t in ["30,", "--", "🙂", "12.5%", "C124.", "U2", "था", "门"]] == [
        True, True, True, True, False, False, False, False]


# ----------------------------------------------------------------- codemix.lexicon.v1


def test_registered_with_defaults():
    p = make_perturbation(PID)
    assert isinstance(p, LexiconCodeSwitch) and PERTURBATIONS.get(PID) is LexiconCodeSwitch
    assert p.targets == DEFAULT_TARGETS and p.romanize is False
    assert p.keeps_token_count and p.family == "codemix"


@pytest.mark.parametrize("i", range(len(XNLI_CASES)))
def test_exact_outputs_on_xnli_premises(i):
    text, expected, expected_cmi = XNLI_CASES[i]
    p = make_perturbation(PID)
    res = _run(p, text, 0.3, key=f"cli-{i}")
    assert res.applied and res.text == expected
    assert res.meta["cmi"] == pytest.approx(expected_cmi, abs=1e-9)
    tags = res.meta["token_langs"]
    assert len(tags) == len(res.text.split()) == len(text.split())
    assert res.n_edited == len(_switched(text, res.text, tags)) == sum(t in DEFAULT_TARGETS for t in tags)


def test_replacements_are_lexicon_entries_of_their_tag(shared_data):
    p = make_perturbation(PID)
    rows = xnli_rows("en", 60)
    n_switched = 0
    seen_targets = set()
    for k, row in enumerate(rows):
        for field in ("premise", "hypothesis"):
            text = row[field]
            res = p.perturb(text, 0.5, derive_rng(3, PID, 0.5, f"r{k}", field), "en")
            tags = res.meta["token_langs"]
            assert len(tags) == len(res.text.split()) == len(text.split())
            assert set(tags) <= {"en", "univ", *DEFAULT_TARGETS}
            for (a, b, tag), span in zip(_switched(text, res.text, tags), res.alignment):
                source, translation = text[span.old_start:span.old_end], res.text[span.new_start:span.new_end]
                assert source in a and translation in b and tag in DEFAULT_TARGETS
                assert a.replace(source, translation, 1) == b  # punctuation around the word is kept
                assert translation.lower() in {t.lower() for t in lexicon(tag)[source.lower()]}
                n_switched += 1
                seen_targets.add(tag)
            assert res.meta["cmi"] == cmi(tags)
    assert n_switched > 100 and seen_targets == set(DEFAULT_TARGETS)


def test_severity_one_switches_every_eligible_word_and_zero_is_identity():
    p = LexiconCodeSwitch(targets=("de",))
    text = "The house is very old."
    full = _run(p, text, 1.0)
    assert full.text == "Der haus is sehr altstadt."  # en-de: the -> der, very -> sehr, old -> altstadt; no 'is'

    assert full.n_edited == full.n_eligible == 4
    assert full.meta == {"token_langs": ("de", "de", "en", "de", "de"), "cmi": 20.0}
    zero = _run(p, text, 0.0)
    assert zero.text == text and not zero.applied and zero.reason == "severity selected no word"
    assert zero.meta == {"token_langs": ("en",) * 5, "cmi": 0.0}


def test_capitalisation_and_attached_punctuation_are_kept():
    p = LexiconCodeSwitch(targets=("de",))  # en-de: house -> haus (its only translation)
    res = _run(p, 'HOUSE House, (house) "house." house', 1.0)
    assert res.text == 'HAUS Haus, (haus) "haus." haus'
    assert res.meta["token_langs"] == ("de",) * 5
    es = _run(LexiconCodeSwitch(targets=("es",)), "Where? WHERE!", 1.0)
    assert es.text.split()[0] in {"Donde?", "Adonde?", "Dónde?"} and es.text.split()[1] in {"DONDE!", "ADONDE!", "DÓNDE!"}


def test_universal_tokens_and_words_without_entries():
    p = LexiconCodeSwitch(targets=("de",))
    res = _run(p, "house 42 -- xyzzy 🙂", 1.0)
    assert res.text == "haus 42 -- xyzzy 🙂"
    assert res.meta == {"token_langs": ("de", "univ", "univ", "en", "univ"), "cmi": 50.0}
    none = _run(p, "xyzzy 42 !", 1.0)
    assert not none.applied and none.reason == "no word with a translation into the targets"
    assert none.meta == {"token_langs": ("en", "univ", "univ"), "cmi": 0.0}
    empty = _run(p, "", 1.0)
    assert not empty.applied and empty.meta == {"token_langs": (), "cmi": 0.0}


@pytest.mark.parametrize("lang", ["hi", "de", "zh", "und", "xx"])
def test_non_english_source_is_not_applied_with_reason(lang):
    p = make_perturbation(PID)
    text = "house 门 घर casa"
    res = _run(p, text, 1.0, lang=lang)
    assert not res.applied and res.text == text and res.n_eligible == res.n_edited == 0
    assert "not English" in res.reason and repr(lang) in res.reason
    assert res.meta == {}


@pytest.mark.parametrize("lang", ["en", "en-GB", "en_US", "EN"])
def test_english_tags_are_accepted(lang):
    assert _run(LexiconCodeSwitch(targets=("de",)), "house", 1.0, lang=lang).text == "haus"


def test_multi_word_translations_are_skipped():
    ur = lexicon("ur")
    multi_only = [w for w, ts in ur.items() if all(" " in t for t in ts)]
    assert multi_only, "en-ur has English words with only multi-word translations"
    p = LexiconCodeSwitch(targets=("ur",))
    res = _run(p, " ".join(multi_only), 1.0)
    assert not res.applied and res.n_eligible == 0
    mixed = [w for w, ts in lexicon("sw").items() if any(" " in t for t in ts) and any(" " not in t for t in ts)]
    p = LexiconCodeSwitch(targets=("sw",))
    for seed in range(10):
        res = _run(p, " ".join(mixed), 1.0, seed=seed)
        assert res.n_edited == len(mixed) and len(res.text.split()) == len(mixed)


def test_deterministic_for_the_same_keys_whatever_ran_before():
    text = XNLI_CASES[3][0]
    first = _run(make_perturbation(PID), text, 0.5, key="k")
    other = make_perturbation(PID)
    for i, (t, _, _) in enumerate(XNLI_CASES):
        _run(other, t, 1.0, key=f"warm-{i}")
    again = _run(other, text, 0.5, key="k")
    assert again == first and again.meta == first.meta
    outs = {_run(other, text, 0.5, key="k", seed=s).text for s in range(10)}
    assert len(outs) > 1


def test_targets_are_validated_and_lists_become_tuples():
    assert make_perturbation(PID, {"targets": ["de", "fr"]}).targets == ("de", "fr")
    hash(make_perturbation(PID, {"targets": ["de", "fr"]}))
    for bad in ([], ["xx"], ["de", "de"], ["en"], "de"):
        with pytest.raises(ConfigError, match="targets"):
            make_perturbation(PID, {"targets": bad})
    with pytest.raises(ConfigError, match="romanize"):
        make_perturbation(PID, {"romanize": "yes"})


def test_only_the_chosen_targets_are_used():
    p = LexiconCodeSwitch(targets=("fr", "ja"))
    text = XNLI_CASES[0][0]
    res = _run(p, text, 1.0)
    assert set(res.meta["token_langs"]) <= {"en", "univ", "fr", "ja"} and {"fr", "ja"} & set(res.meta["token_langs"])


def test_romanize_writes_non_latin_translations_in_latin_letters():
    zh = _run(LexiconCodeSwitch(targets=("zh",), romanize=True), "The doors were locked.", 1.0)
    assert zh.text.split()[1] == "men"  # doors -> 门 -> pinyin, as char.translit.v1 writes it
    assert zh.text.isascii() and len(zh.text.split()) == 4
    hi = _run(LexiconCodeSwitch(targets=("hi", "es"), romanize=True), XNLI_CASES[4][0], 1.0)
    assert {"hi", "es"} <= set(hi.meta["token_langs"])
    assert {cluster_script(g) for g in graphemes(hi.text) if is_letter_cluster(g)} == {"Latn"}  # es keeps 'ó'
    assert all(t.isascii() for t, tag in zip(hi.text.split(), hi.meta["token_langs"]) if tag == "hi")
    two = _run(LexiconCodeSwitch(targets=("hi",), romanize=True), "TWO, Two two", 1.0)
    assert two.text == "DO, Do do"  # two -> दो -> 'do', in the source word's case
    ja = LexiconCodeSwitch(targets=("ja",), romanize=True)  # kanji cannot be romanized here: skipped
    assert all(t.isascii() for t in ja.perturb(XNLI_CASES[0][0], 1.0, derive_rng(0, "ja"), "en").text.split())
    de = _run(LexiconCodeSwitch(targets=("de",), romanize=True), "The house is very old.", 1.0)
    assert de.text == "Der haus is sehr altstadt."  # Latin-script translations keep their letters


# ----------------------------------------------------------------- the shipped lexicons


def test_all_lexicons_ship_once_in_harness_resources():
    langs = lexicon_languages()
    assert len(langs) == 46 and {"hi", "de", "es", "zh", "sw", "ur"} <= set(langs)
    assert set(mb.XNLI_LANGUAGES) - {"en"} <= set(langs)
    assert mb.LEXICON_DIR == LEXICON_DIR
    assert not (mb.DEMO_DATA_DIR / "lexicons").exists()
    assert all(f.parent == LEXICON_DIR for f in mb.demo_data_files()[1:])
    readme = LEXICON_DIR.joinpath("README.md").read_text(encoding="utf-8")
    for lang in langs:
        assert f"`en-{lang}.tsv`" in readme
    for needle in ("CC BY-NC 4.0", "GPL-2.0-or-later", "CC BY-SA 3.0", "0950a115b315cab94a16b65c4e80df630c7058b3", "t2s"):
        assert needle in readme
    assert lexicon("de") is lexicon("de")  # cached


def test_zh_lexicon_is_simplified_chinese():
    text = LEXICON_DIR.joinpath("en-zh.tsv").read_text(encoding="utf-8")
    assert lexicon("zh")["this"] == ("这", "这个")
    assert not set("這個來從還說們國會") & set(text)


# ----------------------------------------------------------------- CMI in runs


def test_perturb_example_reports_mean_field_cmi():
    p = LexiconCodeSwitch(targets=("de",))
    ex = Example("e1", "en", {"premise": "The house is very old.", "hypothesis": "xyzzy"}, "neutral")
    v = perturb_example(ex, p, Cell("xnli", "en", PID, 1.0, 0), ("premise", "hypothesis"))
    assert v.applied and v.fields["premise"] == "Die haus is sehr altstadt."
    assert v.cmi == (20.0 + 0.0) / 2
    hi = Example("e2", "hi", {"premise": "घर", "hypothesis": "घर"}, "neutral")
    assert math.isnan(perturb_example(hi, p, Cell("xnli", "hi", PID, 1.0, 0), ("premise", "hypothesis")).cmi)
    swap = make_perturbation("char.swap.v1")
    assert math.isnan(perturb_example(ex, swap, Cell("xnli", "en", "char.swap.v1", 1.0, 0), ("premise",)).cmi)


def test_run_reports_cmi_per_record_and_mean_cmi_per_row(tiny_classifier_dir, tmp_path, capsys):
    for lang in ("en", "hi"):
        write_jsonl(tmp_path / "data" / f"{lang}.jsonl", xnli_rows(lang, 12))
    suite = tmp_path / "suite.yaml"
    suite.write_text(textwrap.dedent("""\
        name: codemix
        seeds: [0]
        tasks:
          - task: xnli
            data: {format: jsonl, path: "data/{lang}.jsonl"}
            languages: [en, hi]
        perturbations:
          - id: codemix.lexicon.v1
            severities: [0.5]
            params: {targets: [de, zh]}
          - id: char.swap.v1
            severities: [0.5]
        stats: {bootstrap_samples: 100}
        """), encoding="utf-8")
    code, _, err = run_cli(["run", suite, "--model", tiny_classifier_dir, "--out", tmp_path / "run", "-q"], capsys)
    assert code == 0, err
    records = pd.read_parquet(tmp_path / "run" / "records.parquet")
    rows = pd.read_csv(tmp_path / "run" / "rows.csv")
    manifest = json.loads((tmp_path / "run" / "run.json").read_text())
    assert manifest["plugins"][PID]["params"] == {"targets": ["de", "zh"], "romanize": False}
    cm = records[(records.perturbation == PID) & (records.lang == "en")]
    assert cm["cmi"].notna().all() and cm["cmi"].between(0, 50).all() and cm["cmi"].mean() > 5
    assert records.loc[(records.perturbation != PID) | (records.lang != "en"), "cmi"].isna().all()
    hi = records[(records.perturbation == PID) & (records.lang == "hi")]
    assert not hi["applied"].any()
    for _, r in rows.iterrows():
        if r["perturbation"] == PID and r["lang"] == "en":
            assert r["mean_cmi"] == pytest.approx(cm["cmi"].mean(), abs=1e-9)
        else:
            assert math.isnan(r["mean_cmi"])
