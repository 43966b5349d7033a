"""Severity calibration: the word unit's script dependence, the grapheme unit's fix, sources, CLI."""
from __future__ import annotations

import json
import random
import statistics

import pytest
from _util import run_cli

from harness.calibrate import (
    REFERENCE_GRAPHEMES_PER_WORD,
    TOLERANCE,
    calibrate,
    content_graphemes,
    grapheme_word_share,
    perturber,
    sample_texts,
)
from harness.errors import ConfigError, DataError
from harness.perturbation import make_perturbation
from harness.rng import derive_rng


def _row(report, pid, sev, group):
    return next(r for r in report.rows if (r.perturbation, r.severity, r.group) == (pid, sev, group))


def test_grapheme_word_share():
    assert grapheme_word_share("abcd efgh", 0.0, 2) == 0.0
    assert grapheme_word_share("abcd efgh", 0.5, 0) == 0.0
    assert grapheme_word_share("abcd efgh", 0.5, 2) == pytest.approx(0.5 * 8 / (REFERENCE_GRAPHEMES_PER_WORD * 2))
    assert grapheme_word_share("abcdefghijklmnopqrstuvwxyz", 1.0, 1) == 1.0  # capped: one word can take one edit
    assert content_graphemes(" क्षत्रिय \n") == 3


def test_word_unit_rate_follows_word_length():
    """The problem: at the same severity Hindi words (~2.5 graphemes) get ~2x the English rate."""
    report = calibrate(["en", "hi", "zh"], ["char.keyboard.v1"], [0.3], n=60)
    assert _row(report, "char.keyboard.v1", 0.3, "en").ratio_to_reference == 1.0
    hi = _row(report, "char.keyboard.v1", 0.3, "hi")
    assert hi.script == "Deva" and hi.ratio_to_reference > 1.5 and hi.within_tolerance is False
    assert "graphemes/word" in hi.note
    zh = _row(report, "char.keyboard.v1", 0.3, "zh")
    assert not zh.supported and zh.ratio_to_reference is None and zh.within_tolerance is None
    assert zh.note == "Hani not supported by char.keyboard.v1"


@pytest.mark.parametrize("pid", ["char.substitute.v1", "char.delete.v1"])
def test_grapheme_unit_brings_every_script_within_tolerance(pid):
    report = calibrate(["hi", "th", "zh", "tr"], [pid], [0.3, 0.5], n=120, unit="grapheme")
    checked = report.checked()
    assert len(checked) == 8
    assert not report.failures(), [(r.group, r.severity, r.ratio_to_reference) for r in report.failures()]


def test_grapheme_unit_edits_in_proportion_to_graphemes():
    """E[words edited] = severity * graphemes / REFERENCE_GRAPHEMES_PER_WORD, whatever the script."""
    p = make_perturbation("char.substitute.v1")
    perturb, _ = perturber(p, "grapheme")
    for lang in ("en", "zh", "hi"):
        texts, _ = sample_texts(lang, 150)
        ratios = []
        for i, text in enumerate(texts):
            res, capped = perturb(text, 0.3, derive_rng(0, p.id, 0.3, f"t{i}", "text"), lang)
            assert not capped
            ratios.append(res.n_edited / (0.3 * content_graphemes(text) / REFERENCE_GRAPHEMES_PER_WORD))
        assert statistics.fmean(ratios) == pytest.approx(1.0, abs=0.1), lang


def test_grapheme_conversion_keeps_rng_draws_and_edits():
    """Converting the severity changes only how many words are drawn: at the word share it gives, the
    word unit makes the very same output."""
    p = make_perturbation("char.keyboard.v1")
    text = "Mary said she didn't know where Tom was going after the long meeting."
    perturb, _ = perturber(p, "grapheme")
    res, _ = perturb(text, 0.5, derive_rng(0, "k", 0.5), "en")
    n_elig = p.perturb(text, 0.0, random.Random(0), "en").n_eligible
    assert res == p.perturb(text, grapheme_word_share(text, 0.5, n_elig), derive_rng(0, "k", 0.5), "en")


def test_script_grouping_pools_languages():
    report = calibrate(["en", "de", "hi"], ["char.swap.v1"], [0.5], n=20, by="script")
    groups = {r.group: r for r in report.rows}
    assert set(groups) == {"Latn", "Deva"} and groups["Latn"].langs == ("en", "de") and groups["Latn"].n == 40


def test_sample_sources(tmp_path):
    texts, src = sample_texts("hi", 5)
    assert len(texts) == 5 and src.endswith("demo_data/xnli/hi.jsonl")
    texts, src = sample_texts("ta", 5)  # no demo data: the golden inputs
    assert len(texts) == 1 and src.endswith("inputs.json")
    (tmp_path / "xx.txt").write_text("one line\n\nanother line\none line\n", encoding="utf-8")
    assert sample_texts("xx", 10, tmp_path / "{lang}.txt")[0] == ["one line", "another line"]
    (tmp_path / "xx.jsonl").write_text('{"s": "a b"}\n{"s": "c d"}\n', encoding="utf-8")
    assert sample_texts("xx", 10, tmp_path / "{lang}.jsonl", field="s")[0] == ["a b", "c d"]
    with pytest.raises(DataError, match="no text field 'text'"):
        sample_texts("xx", 10, tmp_path / "{lang}.jsonl")
    with pytest.raises(ConfigError, match="no sample text for language 'qq'"):
        sample_texts("qq", 10)


def test_validation_errors():
    with pytest.raises(ConfigError, match="severity unit"):
        calibrate(["en"], ["char.swap.v1"], unit="char")
    with pytest.raises(ConfigError, match="severities"):
        calibrate(["en"], ["char.swap.v1"], [0.0])
    with pytest.raises(ConfigError, match="did you mean"):
        calibrate(["en"], ["char.swpa.v1"])


def test_missing_engine_is_a_note_not_a_crash(monkeypatch):
    import attacks.nlpaug_engine.perturbations as engine

    def missing():
        raise ConfigError("nlpaug is not installed: install xrobust[nlpaug]")
    monkeypatch.setattr(engine, "nlpaug_char", missing)
    row = _row(calibrate(["en"], ["nlpaug.keyboard.v1"], [0.3], n=5), "nlpaug.keyboard.v1", 0.3, "en")
    assert not row.supported and "install xrobust[nlpaug]" in row.note


def test_cli_json_and_table(capsys):
    code, out, _ = run_cli(["calibrate", "--langs", "en,hi", "-p", "char.swap.v1", "--severities", "0.3",
                            "--n", "20", "--format", "json"], capsys)
    doc = json.loads(out)
    assert code == 0 and doc["reference"] == "en" and doc["tolerance"] == TOLERANCE and doc["unit"] == "word"
    assert [(r["group"], r["script"]) for r in doc["rows"]] == [("en", "Latn"), ("hi", "Deva")]
    assert set(doc["rows"][0]) >= {"severity", "mean_edit_rate", "applied_rate", "ratio_to_reference"}
    code, out, _ = run_cli(["calibrate", "--langs", "hi", "-p", "char.swap.v1", "--severities", "0.3,0.5",
                            "--n", "20", "--unit", "grapheme"], capsys)
    assert code == 0 and "char.swap.v1" in out and "Deva" in out and "supported cells within ±15% of en" in out


def test_cli_bad_options_exit_2(capsys):
    assert run_cli(["calibrate", "--severities", "low"], capsys)[0] == 2
    code, _, err = run_cli(["calibrate", "--langs", "en", "-p", "char.swap.v1", "--by", "family"], capsys)
    assert code == 2 and "--by" in err


def test_file_samples_are_compared_with_the_shipped_english(tmp_path):
    (tmp_path / "hi.txt").write_text("इस दवाई को हर छः घंटे लेना।\nमैं घर जा रहा हूँ।\n", encoding="utf-8")
    report = calibrate(["hi"], ["char.swap.v1"], [0.5], n=50, file=tmp_path / "{lang}.txt")
    assert report.sources["hi"].endswith("hi.txt") and report.sources["en"].endswith("demo_data/xnli/en.jsonl")
    assert [r.group for r in report.rows] == ["hi"] and report.rows[0].n == 2
