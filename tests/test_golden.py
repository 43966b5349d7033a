"""Golden outputs: every registered perturbation reproduces its committed outputs exactly (≥ 6 scripts)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "golden"))
from regenerate import HERE, golden_lines, header  # noqa: E402

from harness.perturbation import PERTURBATIONS  # noqa: E402
from harness.text import dominant_script  # noqa: E402


@pytest.mark.parametrize("pid", PERTURBATIONS.names())
def test_golden_file_reproduces_exactly(pid):
    if PERTURBATIONS.get(pid).family == "realworld":
        pytest.skip("paired real-world noise edits only the texts of its file; exact outputs: tests/test_realworld.py")
    path = HERE / f"{pid}.jsonl"
    assert path.exists(), f"no golden file for {pid}: run `{header(pid)[len('# regenerate: '):]}`"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == header(pid)
    expected = [json.loads(x) for x in lines[1:]]
    assert golden_lines(pid) == expected
    assert len({dominant_script(r["text"]) for r in expected}) >= 6
    assert any(r["applied"] for r in expected), f"{pid} applied to no golden input"
