"""`xrobust compare` end to end on three checkpoints (the tiny classifier and two copies with seeded noise in their
word embeddings): side-by-side values equal rows.csv, p-values equal an independent exact McNemar + Holm, marks
follow the thresholds, Spearman's rho equals a hand rank correlation; refusals (incomparable runs, bad metadata,
fewer than 3 checkpoints with --meta) exit 2."""
from __future__ import annotations

import itertools
import json
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from _util import SHARED, run_cli, write_jsonl, xnli_rows

from harness.baseline import RunData
from harness.compare import read_meta, run_names, significance_mark, spearman_rows
from harness.errors import DataError

LANGS = ("en", "ar")  # two families: Indo-European, Afro-Asiatic
N = 60
NOISE = {"run-a": 0.0, "run-b": 1.0, "run-c": 4.0}  # embedding noise, in units of the embeddings' std
SUITE = {
    "name": "comparetest", "seed": 3, "seeds": [0],
    "tasks": [{"task": "xnli", "data": {"format": "jsonl", "path": "data/{lang}.jsonl"}, "languages": list(LANGS),
               "limit": N}],
    "perturbations": [{"id": "char.swap.v1", "severities": [0.3, 0.6]}, {"id": "char.delete.v1", "severities": [0.3]}],
    "stats": {"bootstrap_samples": 200},
}
META = ("run,noise,mean_seq_len,intermediate_task\n"
        "run-a,0,31.5,none\n"
        "run-b,1.0,20,mnli\n"
        "run-c,4,45.25,squad\n")


class _NoCapture:
    """capsys stand-in for module-scoped fixtures (run_cli only needs readouterr)."""

    def readouterr(self):
        return type("Captured", (), {"out": "", "err": ""})()


def _noisy_copy(src, dst, scale: float, seed: int):
    """A copy of a checkpoint with seeded Gaussian noise (scale × the embeddings' std) added to its word embeddings."""
    import torch
    from transformers import AutoModelForSequenceClassification

    shutil.copytree(src, dst)
    if scale == 0:
        return dst
    model = AutoModelForSequenceClassification.from_pretrained(dst)
    emb = model.get_input_embeddings().weight
    with torch.no_grad():
        emb += scale * emb.std() * torch.randn(emb.shape, generator=torch.Generator().manual_seed(seed))
    for f in dst.glob("*.safetensors"):
        f.unlink()
    model.save_pretrained(dst, safe_serialization=True)
    return dst


@pytest.fixture(scope="module")
def work(tmp_path_factory, tiny_classifier_dir):
    """Three runs of one suite (English rows the classifier was fitted on, so noise hurts it there; Arabic test
    rows at chance) and a metadata CSV."""
    d = tmp_path_factory.mktemp("compare")
    train = [json.loads(x) for x in (SHARED / "xtreme_r" / "xnli_train" / "en.jsonl").read_text().splitlines()[:N]]
    write_jsonl(d / "data" / "en.jsonl", [{**r, "id": f"en-{i}"} for i, r in enumerate(train)])
    write_jsonl(d / "data" / "ar.jsonl", xnli_rows("ar", N))
    (d / "suite.yaml").write_text(yaml.safe_dump(SUITE, sort_keys=False), encoding="utf-8")
    for i, (name, scale) in enumerate(NOISE.items()):
        model = _noisy_copy(tiny_classifier_dir, d / "models" / name, scale, seed=i)
        code, _, stderr = run_cli(["run", d / "suite.yaml", "--model", model, "--out", d / name, "-q"], _NoCapture())
        assert code == 0, stderr
    (d / "meta.csv").write_text(META, encoding="utf-8")
    return d


@pytest.fixture(scope="module")
def compared(work):
    """`xrobust compare` of the three runs with the metadata, written to --out."""
    code, stdout, stderr = run_cli(["compare", *(work / n for n in NOISE), "--meta", work / "meta.csv",
                                    "--out", work / "cmp"], _NoCapture())
    assert code == 0, stderr
    table = pd.read_csv(work / "cmp" / "compare.csv")
    return {"md": (work / "cmp" / "compare.md").read_text(encoding="utf-8"),
            "html": (work / "cmp" / "compare.html").read_text(encoding="utf-8"),
            "cells": table[table.table == "cells"], "robustness": table[table.table == "robustness"],
            "correlation": table[table.table == "correlation"]}


def _md_table(md: str, heading: str) -> list[list[str]]:
    """Body rows of the first Markdown table under `heading`."""
    lines = md[md.index(heading):].splitlines()[2:]
    rows = []
    for line in lines[2:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split(" | ")])
    return rows


def _mcnemar(ref: np.ndarray, new: np.ndarray) -> float:
    """Exact two-sided McNemar from the discordant pairs, with integer binomial sums."""
    b, c = int((ref & ~new).sum()), int((~ref & new).sum())
    n, k = b + c, min(b, c)
    if n == 0:
        return 1.0
    return min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n)


def _holm_two(p1: float, p2: float) -> tuple[float, float]:
    """Holm over two hypotheses, by hand: the smaller p times 2, the larger times 1 but at least the first."""
    lo, hi = sorted((p1, p2))
    first = min(1.0, 2 * lo)
    second = max(first, min(1.0, hi))
    return (first, second) if p1 <= p2 else (second, first)


def _spearman(x: list[float], y: list[float]) -> float:
    """Rank correlation: pandas average ranks, then Pearson's formula written out."""
    rx, ry = pd.Series(x).rank().tolist(), pd.Series(y).rank().tolist()
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    num = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    den = math.sqrt(sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry))
    return num / den if den else float("nan")


# --- must show: three checkpoints + metadata -> side-by-side table with Holm marks and the correlation table -------


@pytest.mark.slow
def test_side_by_side_values_equal_rows_csv(work, compared):
    cells = compared["cells"]
    acc = cells[cells.metric == "accuracy"]
    assert len(acc) == 3 * len(LANGS) * 4 and set(acc["run"]) == set(NOISE)
    for name in NOISE:
        rows = pd.read_csv(work / name / "rows.csv")
        got = cells[cells.run == name].merge(rows, on=["task", "lang", "perturbation", "severity", "seed", "metric"],
                                            suffixes=("", "_rows"), validate="one_to_one")
        assert len(got) == len(rows) == 2 * len(LANGS) * 4  # accuracy and macro_f1
        assert (got["value"] == got["value_rows"]).all()  # exact, not approximately
    md_rows = _md_table(compared["md"], "### xnli · accuracy")
    assert len(md_rows) == len(LANGS) * 4
    ref = pd.read_csv(work / "run-a" / "rows.csv").query("metric == 'accuracy'").reset_index(drop=True)
    for md, r in zip(md_rows, ref.itertuples()):
        cell = "clean" if r.perturbation == "clean" else f"{r.perturbation}@{r.severity:g}/seed{r.seed}"
        assert md[:4] == [r.lang, cell, str(r.n), f"{r.value:.4f}"]
        for j, name in enumerate(("run-b", "run-c")):
            other = pd.read_csv(work / name / "rows.csv").query("metric == 'accuracy'").reset_index(drop=True)
            v = other.loc[r.Index, "value"]
            assert md[4 + 2 * j] == f"{v:.4f}"
            assert md[5 + 2 * j].rstrip("*") == f"{v - r.value:+.4f}"


@pytest.mark.slow
def test_holm_adjusted_mcnemar_and_marks(work, compared):
    """p-values recomputed from records.parquet (exact McNemar on the 0/1 scores), Holm across the two languages
    by hand; marks and the Markdown suffixes follow p_adj < 0.01 (**) and < 0.05 (*)."""
    recs = {n: pd.read_parquet(work / n / "records.parquet") for n in NOISE}
    acc = compared["cells"].query("metric == 'accuracy' and run != 'run-a'")
    assert set(acc["test"]) == {"mcnemar_exact"}
    marks = []
    for (run, pert, sev), g in acc.groupby(["run", "perturbation", "severity"]):
        assert list(g["lang"]) == list(LANGS)
        ps = []
        for lang in LANGS:
            sel = [(r.task == "xnli") & (r.lang == lang) & (r.perturbation == pert) & (r.severity == sev)
                   for r in (recs["run-a"], recs[run])]
            a = recs["run-a"][sel[0]].set_index("example_id")["score"].sort_index()
            b = recs[run][sel[1]].set_index("example_id")["score"].reindex(a.index)
            assert len(a) == N
            ps.append(_mcnemar(a.to_numpy() == 1.0, b.to_numpy() == 1.0))
        assert g["p_value"].tolist() == pytest.approx(ps, abs=1e-12)
        assert g["p_adjusted"].tolist() == pytest.approx(list(_holm_two(*ps)), abs=1e-12)
        for p_adj, mark in zip(g["p_adjusted"], g["mark"].fillna("")):
            assert mark == ("**" if p_adj < 0.01 else "*" if p_adj < 0.05 else "")
            marks.append(mark)
    assert "**" in marks and "" in marks  # the heavily noised checkpoint loses English clean accuracy, not all cells
    heavy = acc.query("run == 'run-c' and lang == 'en' and perturbation == 'clean'").iloc[0]
    assert heavy["mark"] == "**" and heavy["diff"] < -0.2
    md_rows = _md_table(compared["md"], "### xnli · accuracy")
    md_marks = [re.sub(r"^[-+0-9.]+", "", row[7]) for row in md_rows]  # diff column of run-c
    assert md_marks == acc.query("run == 'run-c'")["mark"].fillna("").tolist()
    assert "p_adj < 0.05" in compared["md"] and "Holm" in compared["md"]


@pytest.mark.slow
def test_macro_f1_is_tested_on_the_metric_recomputed_from_stats(work, compared):
    """Corpus-level macro-F1: a paired bootstrap of macro-F1 itself, recomputed from the records' `stats` with the
    comparison's draws (seed 0, 2000 resamples, one set per task and language)."""
    from harness.rng import derive_seed
    from harness.stats import bootstrap_counts, bootstrap_indices, paired_bootstrap_diff
    from harness.tasks import adapter_class, get_recipe

    recipe = get_recipe("xnli")
    f1 = lambda sums: adapter_class(recipe.task_type).sums_metrics(recipe, sums)["macro_f1"]  # noqa: E731
    recs = {n: pd.read_parquet(work / n / "records.parquet") for n in NOISE}
    cells = compared["cells"].query("metric == 'macro_f1' and run != 'run-a'")
    assert set(cells["test"]) == {"paired_bootstrap"}
    for lang in LANGS:
        counts = bootstrap_counts(bootstrap_indices(N, 2000, derive_seed(0, "compare", "xnli", lang)))
        for row in cells[cells.lang == lang].itertuples():
            stats = []
            for name in ("run-a", row.run):
                r = recs[name]
                sel = r[(r.lang == lang) & (r.perturbation == row.perturbation) & (r.severity == row.severity)]
                stats.append(np.array(sel.sort_values("example_id")["stats"].tolist(), dtype=float))
            assert f1(stats[1].sum(axis=0)) == pytest.approx(row.value, abs=1e-12)  # the stats give rows.csv's value
            assert row.p_value == paired_bootstrap_diff(f1, stats[0], stats[1], counts).p_value


@pytest.mark.slow
def test_robustness_numbers_and_spearman(work, compared):
    rob = compared["robustness"].query("metric == 'accuracy'")
    rows = {n: pd.read_csv(work / n / "rows.csv").query("metric == 'accuracy'") for n in NOISE}
    hand: dict[str, list[float]] = {"clean": [], "mean_drop": [], "auc:char.swap.v1": []}
    for name, r in rows.items():
        clean = r[r.perturbation == "clean"].set_index("lang")["value"]
        drop = r[r.perturbation != "clean"].groupby("lang")["abs_drop"].mean()
        # AUC by hand: retained fraction 1 − drop/clean at severities 0 (= 1), 0.3, 0.6; trapezoids / 0.6
        sw = r[r.perturbation == "char.swap.v1"].set_index(["lang", "severity"])["abs_drop"]
        auc = {lang: (0.3 * (1 + (1 - sw[lang, 0.3] / clean[lang])) / 2
                      + 0.3 * ((1 - sw[lang, 0.3] / clean[lang]) + (1 - sw[lang, 0.6] / clean[lang])) / 2) / 0.6
               for lang in LANGS}
        for measure, per_lang in (("clean", clean), ("mean_drop", drop), ("auc:char.swap.v1", pd.Series(auc))):
            got = rob[(rob.run == name) & (rob.measure == measure)].set_index("scope")["value"]
            for lang in LANGS:
                assert got[lang] == pytest.approx(per_lang[lang], abs=1e-12)
            assert got["macro"] == pytest.approx(np.mean([per_lang[lang] for lang in LANGS]), abs=1e-12)
            assert got["Indo-European"] == pytest.approx(per_lang["en"], abs=1e-12)
            hand[measure].append(float(np.mean([per_lang[lang] for lang in LANGS])))
    corr = compared["correlation"].query("metric == 'accuracy' and scope == 'macro'").set_index(["column", "measure"])
    assert set(corr.index.get_level_values(0)) == {"noise", "mean_seq_len"}  # the text column is ignored
    meta = pd.read_csv(work / "meta.csv")
    for column in ("noise", "mean_seq_len"):
        x = meta[column].tolist()
        for measure, y in hand.items():
            r = corr.loc[(column, measure)]
            rho = _spearman(x, y)
            assert r["rho"] == pytest.approx(rho, abs=1e-12)
            perm = [_spearman(x, [y[i] for i in p]) for p in itertools.permutations(range(3))]
            assert r["p_permutation"] == pytest.approx(np.mean([abs(v) >= abs(rho) - 1e-12 for v in perm]), abs=1e-12)
            assert -1 <= r["ci_low"] <= r["ci_high"] <= 1 and 0 < r["n_valid_resamples"] <= 2000
            assert r["n_checkpoints"] == 3
    fam = compared["correlation"].query("scope_kind == 'family'")
    assert set(fam["scope"]) == {"Indo-European", "Afro-Asiatic"}
    md = compared["md"]
    assert "## Rank correlation with checkpoint metadata" in md and "CI is wide" in md
    assert "column 'intermediate_task' is not numeric" in md
    first = corr.loc[("noise", "clean")]
    assert f"| noise | xnli · accuracy | clean | macro | {first['rho']:+.4f} |" in md


@pytest.mark.slow
def test_outputs_are_deterministic_and_html_self_contained(work, compared, capsys):
    args = ["compare", *(work / n for n in NOISE), "--meta", work / "meta.csv"]
    code, stdout, stderr = run_cli(args, capsys)
    assert code == 0, stderr
    assert stdout == compared["md"]  # stdout is the Markdown file, and a second run gives the same numbers
    html = compared["html"]
    assert html.startswith("<!DOCTYPE html>") and "<table>" in html and "xnli · accuracy" in html
    assert not re.search(r"<script|<link|src=|@import|url\(", html)
    code, by_name, _ = run_cli([*args, "--reference", "run-c"], capsys)
    code2, by_pos, _ = run_cli([*args, "--reference", "3"], capsys)
    assert code == code2 == 0 and by_name == by_pos and "reference **run-c**" in by_name


# --- refusals -----------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_fewer_than_three_checkpoints_with_meta_exit_2(work, capsys):
    code, _, stderr = run_cli(["compare", work / "run-a", work / "run-b", "--meta", work / "meta.csv"], capsys)
    assert code == 2 and "needs at least 3 runs, got 2" in stderr
    code, _, stderr = run_cli(["compare", work / "run-a"], capsys)
    assert code == 2 and "at least 2 run directories" in stderr
    code, _, stderr = run_cli(["compare", work / "run-a", work / "run-a"], capsys)
    assert code == 2 and "given twice" in stderr


@pytest.mark.slow
def test_incomparable_runs_exit_2_naming_the_difference(work, tmp_path, capsys):
    params = shutil.copytree(work / "run-b", tmp_path / "run-params")
    manifest = json.loads((params / "run.json").read_text())
    manifest["plugins"]["char.swap.v1"]["params"]["edits_per_word"] = 2
    (params / "run.json").write_text(json.dumps(manifest))
    items = shutil.copytree(work / "run-c", tmp_path / "run-items")
    rec = pd.read_parquet(items / "records.parquet")
    rec.loc[rec.index[0], "perturbed_fields"] = json.dumps({"premise": "changed"})
    rec.to_parquet(items / "records.parquet", index=False)
    code, stdout, stderr = run_cli(["compare", work / "run-a", params, items], capsys)
    assert code == 2 and stdout == ""
    assert "runs are not comparable" in stderr
    assert "perturbation char.swap.v1 params.edits_per_word: baseline 1, candidate 2" in stderr
    assert "1 item(s) have the same example id but another gold label or perturbed text" in stderr
    assert "reference run-a ('baseline' below) and run-items ('candidate')" in stderr


@pytest.mark.parametrize("text, expected", [
    ("name,noise\nrun-a,0\nrun-b,1\nrun-c,2\n", "meta.csv:1: no `run` or `checkpoint` column"),
    ("run,noise\nrun-a,0\nrun-b,1\nrun-x,2\n", "meta.csv:4: run 'run-x' is not one of the compared runs"),
    ("run,noise\nrun-a,0\nrun-b,lots\nrun-c,2\n", "meta.csv:3: column 'noise': 'lots' is not a finite number"),
    ("run,noise\nrun-a,0\nrun-b,\nrun-c,2\n", "meta.csv:3: column 'noise': '' is not a finite number"),
    ("run,noise\nrun-a,0\nrun-b,1\n", "no row for run(s) run-c"),
    ("run,noise\nrun-a,0\nrun-b,1\nrun-a,2\nrun-c,3\n", "meta.csv:4: a second row for run run-a (first at line 2)"),
    ("run,noise\nrun-a,0\nrun-b,1,9\nrun-c,2\n", "meta.csv:3: 3 fields, the header has 2"),
    ("run,task\nrun-a,x\nrun-b,y\nrun-c,z\n", "meta.csv:1: no numeric metadata column"),
    ("run,noise,noise\nrun-a,0,0\nrun-b,1,1\nrun-c,2,2\n", "meta.csv:1: column names must be unique"),
    ("", "meta.csv:1: empty"),
])
def test_invalid_metadata_is_a_data_error_with_file_and_line(tmp_path, text, expected):
    meta = tmp_path / "meta.csv"
    meta.write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as exc:
        read_meta(meta, *_fake_runs())
    assert exc.value.exit_code == 2 and expected in str(exc.value), str(exc.value)


def test_metadata_keys_and_text_columns(tmp_path):
    """Rows match a run by directory name, run id or checkpoint source, in any order; a text column is ignored
    with a note; values are read as floats."""
    meta = tmp_path / "meta.csv"
    meta.write_text("checkpoint,order,task\n/ckpt/c,3,squad\nid-a,1,none\nrun-b,2.5,mnli\n", encoding="utf-8")
    table, columns, notes = read_meta(meta, *_fake_runs())
    assert columns == ["order"] and table["order"].to_dict() == {"run-a": 1.0, "run-b": 2.5, "run-c": 3.0}
    assert notes == ["column 'task' is not numeric (e.g. 'none'): ignored; encode an order as numbers to correlate it"]


def _fake_runs():
    """Three RunData stand-ins (only what read_meta looks at: path, run id, checkpoint source) and their names."""
    runs = [RunData(Path(f"/runs/run-{x}"), {"run_id": f"id-{x}", "checkpoint": {"source": f"/ckpt/{x}"}},
                    pd.DataFrame(), pd.DataFrame()) for x in "abc"]
    return runs, run_names(runs)


def test_spearman_rows_equals_hand_rank_correlation_with_ties():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 4, size=(50, 6)).astype(float)  # many ties
    y = rng.normal(size=(50, 6))
    got = spearman_rows(x, y)
    for i in range(50):
        want = _spearman(x[i].tolist(), y[i].tolist())
        assert (math.isnan(got[i]) and math.isnan(want)) or got[i] == pytest.approx(want, abs=1e-12)
    assert math.isnan(spearman_rows(np.ones((1, 3)), np.array([[1.0, 2.0, 3.0]]))[0])


def test_significance_marks_follow_the_thresholds():
    assert [significance_mark(p) for p in (0.0, 0.0099, 0.01, 0.049, 0.05, 0.2, float("nan"))] == \
        ["**", "**", "*", "*", "", "", ""]


@pytest.mark.slow
def test_invalid_metadata_exits_2(work, tmp_path, capsys):
    meta = tmp_path / "meta.csv"
    meta.write_text("run,noise\nrun-a,0\nrun-b,lots\nrun-x,2\n", encoding="utf-8")
    code, stdout, stderr = run_cli(["compare", *(work / n for n in NOISE), "--meta", meta], capsys)
    assert code == 2 and stdout == ""
    flat = " ".join(stderr.split())
    assert f"{meta}:4: run 'run-x' is not one of the compared runs" in flat
    assert f"{meta}:3: column 'noise': 'lots' is not a finite number" in flat


@pytest.mark.slow
def test_meta_rows_match_checkpoint_source(work, tmp_path, capsys):
    """The key column may name the checkpoint source instead of the run directory."""
    meta = tmp_path / "m.csv"
    meta.write_text("checkpoint,noise\n" + "".join(f"{work / 'models' / n},{v}\n" for n, v in NOISE.items()))
    code, stdout, stderr = run_cli(["compare", *(work / n for n in NOISE), "--meta", meta], capsys)
    assert code == 0, stderr
    assert "| noise | xnli · accuracy | clean | macro |" in stdout
