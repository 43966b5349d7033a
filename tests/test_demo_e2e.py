"""The README's demo command end to end (slow group; CI runs it): builds the embedded model, runs the demo suite."""
from __future__ import annotations

import json
from html.parser import HTMLParser

import pandas as pd
import pytest
from _util import run_cli

from harness.suite import load_suite
from _util import REPO

pytestmark = pytest.mark.slow


def test_demo_covers_15_languages_6_perturbations_2_severities(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("XROBUST_CACHE_DIR", str(tmp_path / "cache")) if not __import__("os").environ.get("XROBUST_CACHE_DIR") else None
    out = tmp_path / "demo"
    code, stdout, stderr = run_cli(["demo", "--out", out, "--limit", "60", "-q"], capsys)
    assert code == 0, stderr
    rows = pd.read_csv(out / "rows.csv")
    acc = rows[rows.metric == "accuracy"]
    suite = load_suite(REPO / "suites" / "demo.yaml").suite
    langs = suite.tasks[0].languages
    assert sorted(acc.lang.unique()) == sorted(langs) and len(langs) == 15
    perts = sorted(set(acc.perturbation) - {"clean"})
    assert len(perts) >= 6
    for lang in langs:
        sub = acc[acc.lang == lang]
        assert (sub.perturbation == "clean").sum() == 1
        for p in perts:
            assert sorted(sub[sub.perturbation == p].severity) == [0.1, 0.3]
    assert (acc.n == 60).all()
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["status"] == "complete"
    html = (out / "report.html").read_text(encoding="utf-8")
    HTMLParser().feed(html)
    assert "http://" not in html and "https://" not in html
    assert "report:" in stdout and "Hindi" in (out / "summary.md").read_text(encoding="utf-8")
