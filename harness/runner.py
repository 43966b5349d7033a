"""Run: one suite on one checkpoint -> a run directory (DESIGN.md noun 7 and data flow).

Each (task, language) unit is written to `parts/` as soon as it is finished, so an interrupted run
resumes from the same `--out` directory without redoing finished units.
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from . import __version__
from .data import load_examples
from .errors import ConfigError
from .languages import language_or_unknown
from .perturbation import Perturbation, make_perturbation
from .predictor import Predictor, ProgressFn
from .rng import derive_rng, derive_seed
from .stats import bootstrap_indices, paired_bootstrap
from .suite import LoadedSuite
from .tasks import TaskAdapter, get_recipe, make_adapter
from .text import grapheme_edit_rate, segmenter_name
from .types import Cell, Example, Variant

ProgressFactory = Callable[[str, int], ProgressFn]  # (description, total) -> update(completed, total)

RECORD_COLUMNS = [
    "task", "lang", "perturbation", "severity", "seed", "example_id", "label", "pred", "clean_pred",
    "correct", "flipped", "applied", "edit_rate", "words_edited", "cmi", "perturbed_fields",
]
ROW_COLUMNS = [
    "run_id", "checkpoint", "task", "lang", "lang_name", "family", "script", "perturbation", "severity",
    "seed", "metric", "higher_is_better", "n", "n_applied", "applied_rate", "value", "ci_low", "ci_high",
    "clean_value", "abs_drop", "rel_drop", "drop_ci_low", "drop_ci_high", "flip_rate", "mean_edit_rate",
    "mean_cmi",
]


@dataclass
class RunOptions:
    """Options of one run that are not part of the suite."""

    out: Path | None = None
    limit: int | None = None
    run_id: str | None = None
    reports_root: Path = Path("reports/runs")
    progress: ProgressFactory | None = None
    command: str = ""


@dataclass
class RunResult:
    """What a finished run produced."""

    run_dir: Path
    manifest: dict[str, Any]
    records: pd.DataFrame
    rows: pd.DataFrame
    files: dict[str, Path] = field(default_factory=dict)


def perturb_example(example: Example, pert: Perturbation, cell: Cell, fields: tuple[str, ...]) -> Variant:
    """Apply `pert` to the chosen fields of one example with per-example, per-field RNGs.

    The variant's `cmi` is the mean of the fields' code-mixing indices (each field is one utterance)
    when the perturbation reports one for every field (`meta["cmi"]`), NaN otherwise.
    """
    new = dict(example.fields)
    applied = False
    words = 0
    cmis: list[float] = []
    for f in fields:
        rng = derive_rng(cell.seed, pert.id, cell.severity, example.id, f)
        res = pert.perturb(example.fields[f], cell.severity, rng, example.lang)
        if res.applied:
            new[f] = res.text
            applied = True
            words += res.n_edited
        if "cmi" in res.meta:
            cmis.append(float(res.meta["cmi"]))
    rate = 0.0
    if applied:
        before = "\n".join(example.fields[f] for f in fields)
        after = "\n".join(new[f] for f in fields)
        rate = grapheme_edit_rate(before, after)
    cmi = sum(cmis) / len(cmis) if cmis and len(cmis) == len(fields) else float("nan")
    return Variant(example, new, applied, rate, words, cmi)


def run_suite(loaded: LoadedSuite, get_predictor: Callable[[str], Predictor], options: RunOptions) -> RunResult:
    """Execute every cell of the suite and write the run directory."""
    suite = loaded.suite
    started = time.time()
    adapters: list[TaskAdapter] = []
    predictors: list[Predictor] = []
    for i, t in enumerate(suite.tasks):
        recipe = get_recipe(t.task)
        predictor = get_predictor(recipe.task_type)
        adapters.append(make_adapter(recipe, predictor.id2label, t.label_map, where=f"tasks[{i}]"))
        predictors.append(predictor)
    perts = {p.id: make_perturbation(p.id, p.params) for p in suite.perturbations}
    run_id = options.run_id or f"{datetime.now(timezone.utc):%Y%m%d-%H%M%S}-{suite.name}"
    run_dir = options.out or options.reports_root / run_id
    manifest = _manifest(loaded, predictors[0], perts, run_id, options)
    _claim_run_dir(run_dir, manifest)
    parts = run_dir / "parts"
    parts.mkdir(parents=True, exist_ok=True)
    all_records, all_rows = [], []
    for i, t in enumerate(suite.tasks):
        limit = min(x for x in (t.limit, options.limit, 10**12) if x is not None)
        for lang in t.languages:
            part = parts / f"{i:02d}-{t.task}-{lang}"
            if (part.with_suffix(".done")).exists():
                records = pd.read_parquet(part.with_suffix(".records.parquet"))
                rows = pd.read_parquet(part.with_suffix(".rows.parquet"))
            else:
                examples = load_examples(adapters[i].recipe, t.data, lang, limit=limit, base_dir=loaded.base_dir)
                records, rows = _run_unit(loaded, i, lang, examples, adapters[i], predictors[i], perts, options)
                rows.insert(0, "run_id", run_id)
                records.to_parquet(part.with_suffix(".records.parquet"), index=False)
                rows.to_parquet(part.with_suffix(".rows.parquet"), index=False)
                part.with_suffix(".done").write_text("ok\n")
            all_records.append(records)
            all_rows.append(rows)
    records = pd.concat(all_records, ignore_index=True)
    rows = pd.concat(all_rows, ignore_index=True)
    rows["run_id"] = run_id
    rows = rows[ROW_COLUMNS]
    manifest.update(status="complete", finished=_now(), wall_seconds=round(time.time() - started, 3),
                    n_cells=int(rows[["task", "lang", "perturbation", "severity", "seed"]].drop_duplicates().shape[0]),
                    n_records=len(records), model_calls=sum(p.calls for p in {id(p): p for p in predictors}.values()))
    files = _write_outputs(run_dir, manifest, records, rows)
    return RunResult(run_dir, manifest, records, rows, files)


def _run_unit(loaded: LoadedSuite, ti: int, lang: str, examples: list[Example], adapter: TaskAdapter,
              predictor: Predictor, perts: Mapping[str, Perturbation], options: RunOptions):
    suite = loaded.suite
    spec = suite.tasks[ti]
    fields = tuple(spec.perturb_fields or adapter.recipe.default_perturbable)
    cells = loaded.cells(ti, lang)
    progress = options.progress
    n = len(examples)
    variants: dict[Cell, list[Variant]] = {}
    tick = progress(f"perturb {spec.task}/{lang}", (len(cells) - 1) * n) if progress else None
    done = 0
    for cell in cells:
        if cell.is_clean:
            variants[cell] = [Variant(ex, ex.fields, False, 0.0, 0) for ex in examples]
            continue
        pert = perts[cell.perturbation]
        variants[cell] = [perturb_example(ex, pert, cell, fields) for ex in examples]
        done += n
        if tick:
            tick(done, (len(cells) - 1) * n)
    inputs = [adapter.to_inputs(v.fields) for cell in cells for v in variants[cell]]
    tick = progress(f"predict {spec.task}/{lang}", len(set(inputs))) if progress else None
    outputs = predictor.predict(inputs, tick)
    preds = adapter.decode(outputs)
    by_cell = {cell: preds[k * n:(k + 1) * n] for k, cell in enumerate(cells)}
    clean_preds = by_cell[cells[0]]
    labels = [ex.label for ex in examples]
    idx = bootstrap_indices(n, suite.stats.bootstrap_samples, derive_seed(suite.seed, "bootstrap", spec.task, lang))
    records, rows = [], []
    for cell in cells:
        vs, ps = variants[cell], by_cell[cell]
        for ex, v, p, cp in zip(examples, vs, ps, clean_preds):
            changed = {f: v.fields[f] for f in fields if v.fields[f] != ex.fields[f]}
            records.append({
                "task": cell.task, "lang": lang, "perturbation": cell.perturbation, "severity": cell.severity,
                "seed": cell.seed, "example_id": ex.id, "label": ex.label, "pred": p, "clean_pred": cp,
                "correct": p == ex.label, "flipped": p != cp, "applied": v.applied, "edit_rate": v.edit_rate,
                "words_edited": v.n_edited, "cmi": v.cmi,
                "perturbed_fields": json.dumps(changed, ensure_ascii=False) if changed else "",
            })
        rows.extend(_cell_rows(cell, adapter, labels, clean_preds, ps, vs, idx, suite.stats.confidence, predictor))
    return pd.DataFrame.from_records(records, columns=RECORD_COLUMNS), pd.DataFrame.from_records(rows)


def _cell_rows(cell: Cell, adapter: TaskAdapter, labels, clean_preds, preds, variants, idx, confidence, predictor):
    lang = language_or_unknown(cell.lang)
    y, pc = adapter.encode(labels, clean_preds)
    _, pp = adapter.encode(labels, preds)
    n = len(labels)
    n_applied = sum(v.applied for v in variants)
    flip = float(np.mean([a != b for a, b in zip(preds, clean_preds)])) if n else float("nan")
    edit = float(np.mean([v.edit_rate for v in variants])) if n else float("nan")
    cmis = [v.cmi for v in variants if not np.isnan(v.cmi)]
    mean_cmi = float(np.mean(cmis)) if cmis else float("nan")  # NaN: the perturbation reports no CMI
    clean_values = adapter.metric_values(labels, clean_preds)
    values = adapter.metric_values(labels, preds)
    out = []
    for metric in adapter.metrics:
        hib = adapter.higher_is_better[metric]
        ci = paired_bootstrap(metric, y, pc, pp, higher_is_better=hib, confidence=confidence, idx=idx)
        value, clean = values[metric], clean_values[metric]
        drop = (clean - value) if hib else (value - clean)
        out.append({
            "checkpoint": getattr(predictor, "source", ""), "task": cell.task, "lang": cell.lang,
            "lang_name": lang.name, "family": lang.family, "script": lang.script,
            "perturbation": cell.perturbation, "severity": cell.severity, "seed": cell.seed, "metric": metric,
            "higher_is_better": hib, "n": n, "n_applied": n_applied, "applied_rate": n_applied / n if n else float("nan"),
            "value": value, "ci_low": ci.value_low, "ci_high": ci.value_high, "clean_value": clean,
            "abs_drop": drop, "rel_drop": drop / clean if clean else float("nan"),
            "drop_ci_low": ci.drop_low, "drop_ci_high": ci.drop_high, "flip_rate": flip, "mean_edit_rate": edit,
            "mean_cmi": mean_cmi,
        })
    return out


def _manifest(loaded: LoadedSuite, predictor: Predictor, perts: Mapping[str, Perturbation], run_id: str,
              options: RunOptions) -> dict[str, Any]:
    import torch
    import transformers

    suite = loaded.suite
    describe = getattr(predictor, "describe", lambda: {"fingerprint": predictor.fingerprint})
    checkpoint = describe()
    return {
        "run_id": run_id,
        "status": "running",
        "started": _now(),
        "command": options.command,
        "suite": {"name": suite.name, "path": str(loaded.path), "sha256": loaded.sha256,
                  "content": suite.model_dump(mode="json")},
        "checkpoint": checkpoint,
        "device": checkpoint.get("device"),
        "dtype": checkpoint.get("dtype"),
        "plugins": {pid: {"class": type(p).__name__, "params": p.params(), "family": p.family}
                    for pid, p in perts.items()},
        "seeds": suite.seeds,
        "seed": suite.seed,
        "limit": options.limit,
        "versions": {"xrobust": __version__, "python": platform.python_version(), "torch": torch.__version__,
                     "transformers": transformers.__version__, "numpy": np.__version__, "pandas": pd.__version__},
        "git_sha": _git_sha(),
        "segmenter": segmenter_name(),
        "host": {"platform": platform.platform(), "cpus": os.cpu_count()},
    }


def _claim_run_dir(run_dir: Path, manifest: dict[str, Any]) -> None:
    """Create the run directory, or accept it for resume when it belongs to the same suite and model."""
    path = run_dir / "run.json"
    if path.exists():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            raise ConfigError(f"{run_dir}: has an unreadable run.json; choose another --out") from None
        same = (old.get("suite", {}).get("sha256") == manifest["suite"]["sha256"]
                and old.get("checkpoint", {}).get("fingerprint") == manifest["checkpoint"]["fingerprint"]
                and old.get("limit") == manifest["limit"])
        if not same:
            raise ConfigError(f"{run_dir}: already holds a run of another suite, checkpoint or --limit; "
                              "choose another --out (or delete that directory)")
        manifest["run_id"] = old.get("run_id", manifest["run_id"])
        manifest["resumed_from"] = old.get("started")
    elif run_dir.exists() and any(run_dir.iterdir()):
        raise ConfigError(f"{run_dir}: exists and is not a run directory; choose another --out")
    run_dir.mkdir(parents=True, exist_ok=True)
    _write_json(path, manifest)


def _write_outputs(run_dir: Path, manifest: dict[str, Any], records: pd.DataFrame, rows: pd.DataFrame) -> dict[str, Path]:
    from .report import write_reports

    files = {"records": run_dir / "records.parquet", "rows": run_dir / "rows.csv", "manifest": run_dir / "run.json"}
    records.to_parquet(files["records"], index=False)
    rows.to_csv(files["rows"], index=False)
    files.update(write_reports(rows, manifest, run_dir))
    _write_json(files["manifest"], manifest)  # written last: "complete" only once everything else exists
    return files


def _write_json(path: Path, obj: Any) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _git_sha() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True,
                             text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None
