"""Run: one suite on one checkpoint -> a run directory (DESIGN.md noun 7 and data flow).

Each (task, language) unit is written to `parts/` as soon as it is finished, so an interrupted run
resumes from the same `--out` directory without redoing finished units.
"""
from __future__ import annotations

import hashlib
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
from .attack import AttackRun, make_attack, outcome_stats
from .data import load_examples
from .errors import ConfigError, Interrupted
from .executors import Executor, LocalExecutor
from .languages import language_or_unknown
from .perturbation import Perturbation
from .predictor import Predictor, ProgressFn
from .rng import derive_seed
from .stats import bootstrap_counts, bootstrap_indices, paired_bootstrap_sums
from .suite import LoadedSuite
from .tasks import TaskAdapter, adapter_class, get_recipe, make_adapter, perturb_text_fields
from .text import segmenter_name
from .types import Cell, Example, Variant

ProgressFactory = Callable[[str, int], ProgressFn]  # (description, total) -> update(completed, total)

RECORD_COLUMNS = [
    "task", "lang", "perturbation", "severity", "seed", "example_id", "label", "pred", "clean_pred",
    "correct", "score", "stats", "flipped", "applied", "edit_rate", "words_edited", "cmi", "label_lost", "perturbed_fields",
    "n_subtokens", "n_subtokens_clean", "ids_changed", "n_unk",
    "attack_outcome", "queries",
]
ROW_COLUMNS = [
    "run_id", "checkpoint", "task", "lang", "lang_name", "family", "script", "perturbation", "severity",
    "seed", "metric", "higher_is_better", "n", "n_applied", "applied_rate", "value", "ci_low", "ci_high",
    "clean_value", "abs_drop", "rel_drop", "drop_ci_low", "drop_ci_high", "flip_rate", "mean_edit_rate",
    "mean_cmi", "n_label_lost", "ids_changed_rate", "subtoken_change", "fertility_change", "unk_rate",
    "attack_success_rate", "mean_queries", "mean_word_edit_share",
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
    executor: Executor | None = None  # None: LocalExecutor (units one after another in this process)


@dataclass
class RunResult:
    """What a finished run produced."""

    run_dir: Path
    manifest: dict[str, Any]
    records: pd.DataFrame
    rows: pd.DataFrame
    files: dict[str, Path] = field(default_factory=dict)


perturb_example = perturb_text_fields  # the text-field perturbation every adapter starts from


def run_suite(loaded: LoadedSuite, get_predictor: Callable[[str], Predictor], options: RunOptions) -> RunResult:
    """Execute every cell of the suite and write the run directory."""
    suite = loaded.suite
    started = time.time()
    adapters: list[TaskAdapter] = []
    predictors: list[Predictor] = []
    perts = {p.id: p.make(loaded.base_dir) for p in suite.perturbations}
    for i, t in enumerate(suite.tasks):
        recipe = get_recipe(t.task)
        predictor = get_predictor(t.task, adapter_class(recipe.task_type).head)
        adapter = make_adapter(recipe, predictor, t.adapter_options(loaded.base_dir), where=f"tasks[{i}]")
        for pi, p in enumerate(suite.perturbations):
            adapter.check_perturbation(perts[p.id], f"perturbations[{pi}] on tasks[{i}] ({t.task})")
        adapters.append(adapter)
        predictors.append(predictor)
    run_id = options.run_id or f"{datetime.now(timezone.utc):%Y%m%d-%H%M%S}-{suite.name}"
    run_dir = options.out or options.reports_root / run_id
    manifest = _manifest(loaded, predictors, perts, run_id, options)
    _claim_run_dir(run_dir, manifest)
    parts = run_dir / "parts"
    parts.mkdir(parents=True, exist_ok=True)
    units = [(i, lang) for i, t in enumerate(suite.tasks) for lang in t.languages]
    part_of = {(i, lang): parts / f"{i:02d}-{suite.tasks[i].task}-{lang}" for i, lang in units}
    finished = {u: (pd.read_parquet(part_of[u].with_suffix(".records.parquet")),
                    pd.read_parquet(part_of[u].with_suffix(".rows.parquet")))
                for u in units if part_of[u].with_suffix(".done").exists()}
    executor = options.executor or LocalExecutor()
    # units come back in any order; each is written as soon as it is done and merged in suite order
    try:
        for unit, records, rows in executor.run(loaded, [u for u in units if u not in finished], adapters,
                                                predictors, perts, options):
            part = part_of[unit]
            rows.insert(0, "run_id", run_id)
            records.to_parquet(part.with_suffix(".records.parquet"), index=False)
            rows.to_parquet(part.with_suffix(".rows.parquet"), index=False)
            part.with_suffix(".done").write_text("ok\n")  # last: a unit without it is computed again
            finished[unit] = records, rows
    except KeyboardInterrupt:
        raise Interrupted(f"interrupted: {len(finished)} of {len(units)} (task, language) units are finished and "
                          f"kept in {parts}; run the same command with --out {run_dir} to resume (only the other "
                          "units are computed)") from None
    records = pd.concat([finished[u][0] for u in units], ignore_index=True)
    rows = pd.concat([finished[u][1] for u in units], ignore_index=True)
    rows["run_id"] = run_id
    rows = rows[ROW_COLUMNS]
    manifest.update(status="complete", finished=_now(), wall_seconds=round(time.time() - started, 3),
                    n_cells=int(rows[["task", "lang", "perturbation", "severity", "seed"]].drop_duplicates().shape[0]),
                    n_records=len(records), executor=executor.describe(),
                    model_calls=sum(p.calls for p in {id(p): p for p in predictors}.values()) + executor.model_calls)
    files = _write_outputs(run_dir, manifest, records, rows)
    return RunResult(run_dir, manifest, records, rows, files)


def run_unit(loaded: LoadedSuite, ti: int, lang: str, adapter: TaskAdapter, predictor: Predictor,
             perts: Mapping[str, Perturbation], options: RunOptions) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Records and rows (without run_id) of one (task, language) unit: what every executor computes."""
    spec = loaded.suite.tasks[ti]
    limit = min(x for x in (spec.limit, options.limit, 10**12) if x is not None)
    examples = load_examples(adapter.recipe, spec.data, lang, limit=limit, base_dir=loaded.base_dir)
    return _run_unit(loaded, ti, lang, examples, adapter, predictor, perts, options)


def _run_unit(loaded: LoadedSuite, ti: int, lang: str, examples: list[Example], adapter: TaskAdapter,
              predictor: Predictor, perts: Mapping[str, Perturbation], options: RunOptions):
    suite = loaded.suite
    spec = suite.tasks[ti]
    fields = tuple(spec.perturb_fields or adapter.recipe.default_perturbable)
    cells = loaded.cells(ti, lang)
    progress = options.progress
    n = len(examples)
    groups: list[list[Variant]] = []
    total = (len(cells) - 1) * n
    tick = progress(f"perturb {spec.task}/{lang}", total) if progress else None
    done = 0
    attacks = {a.id: make_attack(a.id, a.params) for a in suite.attacks}
    runs: dict[int, AttackRun] = {}  # cell index -> the attack's variants, predictions and outcomes
    for ci, cell in enumerate(cells):
        if cell.is_clean:
            groups.append([adapter.clean_variant(ex) for ex in examples])
            continue
        if cell.perturbation in attacks:
            label = f"attack {cell.perturbation}@{cell.severity:g} {spec.task}/{lang}"
            runs[ci] = attacks[cell.perturbation].run(adapter, predictor, examples, cell, fields,
                                                      progress(label, n) if progress else None)
            groups.append(runs[ci].variants)
            continue
        pert = perts[cell.perturbation]
        groups.append([adapter.perturb(ex, pert, cell, fields) for ex in examples])
        done += n
        if tick:
            tick(done, total)
    tick = progress(f"predict {spec.task}/{lang}", 0) if progress else None
    preds = adapter.predict(predictor, [[] if ci in runs else g for ci, g in enumerate(groups)], tick)
    for ci, run in runs.items():
        preds[ci] = run.preds
    tokens = token_diagnostics(predictor.tokenizer, examples, groups, fields)
    clean_variants, clean_preds = groups[0], preds[0]
    clean_stats = adapter.example_stats(clean_variants, clean_preds)
    counts = bootstrap_counts(bootstrap_indices(n, suite.stats.bootstrap_samples,
                                                derive_seed(suite.seed, "bootstrap", spec.task, lang)))
    clean_rec = [adapter.record_fields(v, p) for v, p in zip(clean_variants, clean_preds)]
    records, rows = [], []
    for ci, (cell, vs, ps, tok) in enumerate(zip(cells, groups, preds, tokens)):
        outs = runs[ci].outcomes if ci in runs else None
        stats = clean_stats if cell.is_clean else adapter.example_stats(vs, ps)
        recs = clean_rec if cell.is_clean else [adapter.record_fields(v, p) for v, p in zip(vs, ps)]
        for j, (ex, v, rec, crec) in enumerate(zip(examples, vs, recs, clean_rec)):
            changed = {f: v.fields[f] for f in fields if v.fields[f] != ex.fields[f]}
            cmi = v.cmi if not np.isnan(v.cmi) else float(ex.meta.get("cmi", float("nan")))
            records.append({
                "task": cell.task, "lang": lang, "perturbation": cell.perturbation, "severity": cell.severity,
                "seed": cell.seed, "example_id": ex.id, "label": rec["label"], "pred": rec["pred"],
                "clean_pred": crec["pred"], "correct": bool(rec["correct"]), "score": float(rec["score"]),
                "stats": stats[j].tolist(),
                "flipped": rec["pred"] != crec["pred"], "applied": v.applied, "edit_rate": v.edit_rate,
                "words_edited": v.n_edited, "cmi": cmi, "label_lost": v.label_lost,
                "perturbed_fields": json.dumps(changed, ensure_ascii=False) if changed else "",
                "attack_outcome": outs[j].status if outs else "", "queries": outs[j].queries if outs else 0,
                **{k: a[j].item() for k, a in tok.items()},
            })
        start = len(rows)
        rows.extend(_cell_rows(cell, adapter, vs, ps, clean_stats, stats, records[-n:] if n else [], counts,
                               suite.stats.confidence, predictor))
        for r in rows[start:]:  # attack columns: NaN for perturbation cells
            r.update(outcome_stats(outs))
    return pd.DataFrame.from_records(records, columns=RECORD_COLUMNS), pd.DataFrame.from_records(rows)


def _cell_rows(cell: Cell, adapter: TaskAdapter, variants, preds, clean_stats, stats, records, counts,
               confidence, predictor):
    lang = language_or_unknown(cell.lang)
    n = len(variants)
    n_applied = sum(v.applied for v in variants)
    flip = float(np.mean([r["flipped"] for r in records])) if n else float("nan")
    edit = float(np.mean([v.edit_rate for v in variants])) if n else float("nan")
    cmis = [r["cmi"] for r in records if not np.isnan(r["cmi"])]
    mean_cmi = float(np.mean(cmis)) if cmis else float("nan")  # NaN: neither data nor perturbation gives a CMI
    diag = cell_token_diagnostics(records)
    with np.errstate(invalid="ignore", divide="ignore"):
        clean_values = {k: float(v) for k, v in adapter.metrics_from_sums(clean_stats.sum(axis=0)).items()}
        values = {k: float(v) for k, v in adapter.metrics_from_sums(stats.sum(axis=0)).items()}
    out = []
    for metric in adapter.metrics:
        hib = adapter.higher_is_better[metric]
        fn = _metric_fn(adapter, metric)
        ci = paired_bootstrap_sums(fn, clean_stats, stats, counts, higher_is_better=hib, confidence=confidence)
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
            "mean_cmi": mean_cmi, "n_label_lost": sum(v.label_lost for v in variants), **diag,
        })
    return out


def _field_text(value: Any) -> str:
    """A field as the text the tokenizer sees: a token task's word tuple joined with spaces."""
    return " ".join(map(str, value)) if isinstance(value, (tuple, list)) else str(value)


def token_diagnostics(tokenizer: Any, examples: list[Example], groups: list[list[Variant]],
                      fields: tuple[str, ...]) -> list[dict[str, np.ndarray]]:
    """Per cell, per example: sub-token counts of the perturbed fields (`n_subtokens`) and of the same clean
    fields (`n_subtokens_clean`), whether any field's token ids changed, and unknown tokens among the perturbed
    ones. Counted without special tokens and without truncation; every distinct text is tokenized once."""
    clean_texts = [tuple(_field_text(ex.fields[f]) for f in fields) for ex in examples]
    texts = [[tuple(_field_text(v.fields[f]) for f in fields) for v in g] for g in groups]
    unique = list(dict.fromkeys(t for per in (clean_texts, *texts) for key in per for t in key))
    ids = dict(zip(unique, map(tuple, tokenizer(unique, add_special_tokens=False, verbose=False)["input_ids"])
                   if unique else ()))
    unk = getattr(tokenizer, "unk_token_id", None)  # byte-level tokenizers have none: 0 unknown tokens
    clean_len = np.array([sum(len(ids[t]) for t in key) for key in clean_texts], dtype=np.int64)
    out = []
    for group in texts:
        out.append({
            "n_subtokens": np.array([sum(len(ids[t]) for t in key) for key in group], dtype=np.int64),
            "n_subtokens_clean": clean_len,
            "ids_changed": np.array([any(ids[a] != ids[b] for a, b in zip(key, ck)) for key, ck in zip(group, clean_texts)],
                                    dtype=bool),
            "n_unk": np.array([sum(ids[t].count(unk) for t in key) if unk is not None else 0 for key in group],
                              dtype=np.int64),
        })
    return out


def cell_token_diagnostics(records: list[dict[str, Any]]) -> dict[str, float]:
    """Rows' tokenization diagnostics of one cell from its records: share of inputs whose token ids changed,
    mean change in sub-token count per input, relative change in sub-tokens (fertility: sub-tokens per word
    when the words are kept), unknown tokens per sub-token of the (perturbed) inputs; NaN without inputs."""
    nan = float("nan")
    if not records:
        return {"ids_changed_rate": nan, "subtoken_change": nan, "fertility_change": nan, "unk_rate": nan}
    sub = sum(r["n_subtokens"] for r in records)
    clean = sum(r["n_subtokens_clean"] for r in records)
    return {
        "ids_changed_rate": float(np.mean([r["ids_changed"] for r in records])),
        "subtoken_change": (sub - clean) / len(records),
        "fertility_change": sub / clean - 1.0 if clean else nan,
        "unk_rate": sum(r["n_unk"] for r in records) / sub if sub else nan,
    }


def _metric_fn(adapter: TaskAdapter, metric: str):
    return lambda sums: adapter.metrics_from_sums(sums)[metric]


def _manifest(loaded: LoadedSuite, predictors: list[Predictor], perts: Mapping[str, Perturbation], run_id: str,
              options: RunOptions) -> dict[str, Any]:
    import torch
    import transformers

    suite = loaded.suite
    described = [getattr(p, "describe", lambda p=p: {"fingerprint": p.fingerprint})() for p in predictors]
    checkpoint = dict(described[0])
    if len({d["fingerprint"] for d in described}) > 1:  # several checkpoints (one per task head)
        checkpoint["fingerprint"] = hashlib.sha256("".join(d["fingerprint"] for d in described).encode()).hexdigest()
        checkpoint["tasks"] = {t.task: d for t, d in zip(suite.tasks, described)}
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
    files.update(write_reports(rows, manifest, run_dir, records))
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
