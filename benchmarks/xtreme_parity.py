"""`xrobust score` vs google-research/xtreme's `evaluate.py`, per task, language and metric, on XTREME's mock_test_data.

    python benchmarks/xtreme_parity.py                    # reference: the values recorded in tests/test_score.py
    python benchmarks/xtreme_parity.py --xtreme REPO --xtreme-python PY   # reference: run evaluate.py now

Ours: `xrobust score --task T --lang L --predictions F --references F --format json` (in-process), ×100.
Reference: XTREME's `evaluate_one_task(pred, label, task, language=L)`, which already prints ×100. With `--xtreme`,
REPO is a checkout of google-research/xtreme and PY a Python that can import its evaluate.py (numpy and
seqeval==0.0.12, e.g. a throwaway venv; not this project's venv, whose seqeval is >= 1.0); the script then also
says whether the live values equal the recorded ones (and lists evaluate.py's values for any mock task `xrobust
score` does not score; today it scores all 10). Prints a markdown table; exit status 1 if any |diff| exceeds 1e-9.
"""
from __future__ import annotations

import argparse
import ast
import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness.cli import main as xrobust  # noqa: E402
from harness.score import QA_TASKS, TASKS  # noqa: E402

DEFAULT_MOCK = REPO.parent / "shared" / "data" / "xtreme_mock"
TOLERANCE = 1e-9
SHORT = {"accuracy": "acc", "exact_match": "EM", "f1": "F1", "precision": "P", "recall": "R", "map@20": "MAP@20"}

# Run by --xtreme-python: every task and language with mock files, scored by XTREME's own code; JSON on stdout.
_DRIVER = r"""
import json, os, sys
repo, mock = sys.argv[1], sys.argv[2]
sys.path.insert(0, repo)
import evaluate as ev
out = {}
for t2l, g2t in ((ev.XTREME_TASK2LANGS, ev.XTREME_GROUP2TASK), (ev.XTREME_R_TASK2LANGS, ev.XTREME_R_GROUP2TASK)):
    for task, langs in t2l.items():
        if task in out or not os.path.isdir(os.path.join(mock, "labels", task)):
            continue
        suffix = ev.get_suffix(task, g2t)
        res = {}
        for lg in langs:
            p = os.path.join(mock, "predictions", task, f"test-{lg}.{suffix}")
            l = os.path.join(mock, "labels", task, f"test-{lg}.{suffix}")
            if os.path.exists(p) and os.path.exists(l):
                res[lg] = {m: float(v) for m, v in ev.evaluate_one_task(p, l, task, language=lg).items()}
        out[task] = res
json.dump(out, sys.stdout)
"""


def recorded_reference() -> dict[str, dict[str, dict[str, float]]]:
    """XTREME_PER_LANGUAGE from tests/test_score.py ({task: {metric: {lang: value}}}), without importing the tests."""
    tree = ast.parse((REPO / "tests" / "test_score.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "XTREME_PER_LANGUAGE" for t in node.targets):
            by_metric = ast.literal_eval(node.value)
            return {task: _by_lang(metrics) for task, metrics in by_metric.items()}
    raise SystemExit("tests/test_score.py has no XTREME_PER_LANGUAGE")


def _by_lang(by_metric: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for metric, values in by_metric.items():
        for lang, value in values.items():
            out.setdefault(lang, {})[metric] = float(value)
    return out


def live_reference(xtreme: Path, python: str, mock: Path) -> dict[str, dict[str, dict[str, float]]]:
    """{task: {lang: {metric: value}}} from XTREME's evaluate.py, run by `python`."""
    proc = subprocess.run([python, "-c", _DRIVER, str(xtreme), str(mock)], capture_output=True, text=True,
                          cwd=xtreme, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"evaluate.py driver failed ({proc.returncode}):\n{proc.stderr}")
    return json.loads(proc.stdout)


def ours(task: str, lang: str, mock: Path) -> dict[str, float]:
    ext = "json" if task in QA_TASKS or task == "mewslix" else "tsv"
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.suppress(SystemExit):
        xrobust(["score", "--task", task, "--lang", lang, "--format", "json",
                 "--predictions", str(mock / "predictions" / task / f"test-{lang}.{ext}"),
                 "--references", str(mock / "labels" / task / f"test-{lang}.{ext}")])
    values = json.loads(buf.getvalue())
    return {k: 100 * v for k, v in values.items() if k not in ("task", "lang")}


def _cell(values: dict[str, float], order: dict[str, float]) -> str:
    return " · ".join(f"{SHORT.get(m, m)} {float(values[m])!r}" for m in sorted(order))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--mock", type=Path, default=DEFAULT_MOCK, help="XTREME mock_test_data folder")
    ap.add_argument("--xtreme", type=Path, help="checkout of google-research/xtreme (run its evaluate.py)")
    ap.add_argument("--xtreme-python", default=None, help="Python with numpy and seqeval==0.0.12 (with --xtreme)")
    args = ap.parse_args()
    if (args.xtreme is None) != (args.xtreme_python is None):
        ap.error("--xtreme and --xtreme-python go together")

    recorded = recorded_reference()
    if args.xtreme:
        reference = live_reference(args.xtreme, args.xtreme_python, args.mock)
        source = f"evaluate.py run now ({args.xtreme})"
    else:
        reference = recorded
        source = "values recorded in tests/test_score.py"
    mock_tasks = sorted(p.name for p in (args.mock / "labels").iterdir() if p.is_dir())
    scored = [t for t in TASKS if t in mock_tasks]

    print(f"Reference: {source}. Values ×100 (acc accuracy, EM exact match, P precision, R recall, "
          "MAP@20 mean average precision of the top 20); "
          "|diff| is the largest over the row's metrics.\n")
    print("| task | lang | ours | evaluate.py | \\|diff\\| |")
    print("|---|---|---|---|---:|")
    rows = worst = exact = 0
    for task in scored:
        for lang in sorted(reference[task]):
            mine, ref = ours(task, lang, args.mock), reference[task][lang]
            diffs = [abs(mine[m] - ref[m]) for m in ref]
            rows, worst, exact = rows + len(diffs), max(worst, *diffs), exact + sum(d == 0 for d in diffs)
            print(f"| {task} | {lang} | {_cell(mine, ref)} | {_cell(ref, ref)} | {max(diffs):.1e} |")
    n_langs = sum(len(reference[t]) for t in scored)
    print(f"\n{len(scored)} tasks, {n_langs} task-languages, {rows} values: {exact} bit-identical, "
          f"max |diff| {worst:.1e} (tolerance {TOLERANCE:g}).")

    unscored = [t for t in mock_tasks if t not in TASKS]
    if args.xtreme:
        same = all(reference[t] == recorded[t] for t in recorded)
        print(f"Live evaluate.py values {'equal' if same else 'DIFFER FROM'} those recorded in tests/test_score.py.")
        if unscored:
            print("\nMock tasks `xrobust score` does not score (evaluate.py's values):\n")
            print("| task | lang | evaluate.py |")
            print("|---|---|---|")
            for task in unscored:
                for lang in sorted(reference[task]):
                    print(f"| {task} | {lang} | {_cell(reference[task][lang], reference[task][lang])} |")
    elif unscored:
        print(f"Not scored by `xrobust score`: {', '.join(unscored)} (run with --xtreme for evaluate.py's values).")
    return 0 if worst <= TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main())
