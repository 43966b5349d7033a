"""Regenerate golden outputs: python tests/golden/regenerate.py [PERTURBATION_ID ...] (default: all).

Each file tests/golden/<id>.jsonl starts with a comment line naming this command, then one JSON
object per (input, severity): the input of tests/golden/inputs.json, the exact output and whether it applied.
Only regenerate a file on purpose: a changed output for the same seed needs a new version id (`.v2`).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEVERITIES = (0.5, 1.0)
SEED = 0


def golden_lines(pid: str) -> list[dict]:
    """The golden records of one perturbation, computed now."""
    from harness.perturbation import make_perturbation
    from harness.rng import derive_rng

    p = make_perturbation(pid)
    out = []
    for item in json.loads((HERE / "inputs.json").read_text(encoding="utf-8")):
        for sev in SEVERITIES:
            res = p.perturb(item["text"], sev, derive_rng(SEED, pid, sev, f"golden-{item['lang']}", "text"), item["lang"])
            out.append({"lang": item["lang"], "severity": sev, "seed": SEED, "text": item["text"],
                        "output": res.text, "applied": res.applied})
    return out


def header(pid: str) -> str:
    return f"# regenerate: python tests/golden/regenerate.py {pid}"


def write(pid: str) -> Path:
    path = HERE / f"{pid}.jsonl"
    lines = [header(pid)] + [json.dumps(r, ensure_ascii=False) for r in golden_lines(pid)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parents[1]))
    from harness.perturbation import PERTURBATIONS

    for pid in sys.argv[1:] or PERTURBATIONS.names():
        print(write(pid))
