"""Run directories as the gate reads them, and small reviewable baselines (`xrobust baseline update`).

A baseline directory holds what `xrobust gate` needs and nothing else:

* `run.json` — the manifest subset that identifies what was measured (suite name, sha256 and content,
  perturbation ids and parameters, seeds, `--limit`, segmenter, checkpoint source/fingerprint/max_length,
  xrobust version and git sha) plus a `baseline` entry saying where it came from;
* `rows.csv` — the run's rows unchanged (the values the tolerances are applied to; text, so a change of
  baseline is a readable diff);
* `records.parquet` — one row per example × cell with only `task, lang, perturbation, severity, seed,
  example_id` (the pairing key), `score` (the example's own primary score, for the paired tests), `stats`
  (the example's sufficient statistics, for exact paired tests of corpus-level metrics; absent in runs and
  baselines written before xrobust recorded them, which fall back to the score proxy) and
  `item`, a 16-hex-digit hash of the example's gold label and perturbed text, so the gate can prove that
  baseline and candidate saw the identical perturbed items without storing the text.

A full run directory can serve as a baseline too: the gate computes `item` from its `label` and
`perturbed_fields` columns.
"""
from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import GateError

CELL_KEYS = ["task", "lang", "perturbation", "severity", "seed"]
ITEM_KEYS = [*CELL_KEYS, "example_id"]
BASELINE_RECORD_COLUMNS = [*ITEM_KEYS, "score", "stats", "item"]
MANIFEST_KEYS = ("run_id", "status", "command", "suite", "plugins", "seeds", "seed", "limit", "segmenter",
                 "git_sha", "n_cells", "n_records")
CHECKPOINT_KEYS = ("source", "fingerprint", "max_length")


@dataclass(frozen=True)
class RunData:
    """What the gate reads from a run or baseline directory."""

    path: Path
    manifest: dict[str, Any]
    rows: pd.DataFrame
    records: pd.DataFrame  # BASELINE_RECORD_COLUMNS

    @property
    def label(self) -> str:
        return f"{self.manifest.get('run_id', '?')} ({self.path})"


def item_hash(label: str, perturbed_fields: str) -> str:
    """Identity of one perturbed item: its gold label and the text the perturbation produced.

    >>> item_hash("entailment", "")
    'dc749d6ae0f464ed'
    """
    return hashlib.blake2b(f"{label}\x1f{perturbed_fields}".encode("utf-8"), digest_size=8).hexdigest()


def load_run(path: str | Path, role: str) -> RunData:
    """Read run.json, rows.csv and records.parquet of a complete run or baseline; GateError names the file."""
    path = Path(path)
    if not path.is_dir():
        raise GateError(f"{role} {path}: not a directory (expected a run directory or a baseline)")
    manifest = _read_manifest(path / "run.json", role)
    if manifest.get("status") != "complete":
        raise GateError(f"{role} {path}/run.json: status is {manifest.get('status')!r}, not 'complete'; "
                        "finish the run first (re-run the same command with the same --out)")
    rows = _read(path / "rows.csv", role, pd.read_csv)
    records = _read(path / "records.parquet", role, pd.read_parquet)
    missing = [c for c in ITEM_KEYS + ["score"] if c not in records.columns]
    if "item" not in records.columns:
        missing += [c for c in ("label", "perturbed_fields") if c not in records.columns]
    if missing:
        raise GateError(f"{role} {path}/records.parquet: missing columns {missing}")
    if "stats" not in records.columns:  # written before records kept sufficient statistics
        records = records.assign(stats=None)
    if "item" not in records.columns:
        records = records.assign(item=[item_hash(str(lab), str(pf)) for lab, pf in
                                       zip(records["label"], records["perturbed_fields"].fillna(""))])
    need = ["task", "lang", "perturbation", "severity", "seed", "metric", "higher_is_better", "n", "value",
            "clean_value", "abs_drop"]
    absent = [c for c in need if c not in rows.columns]
    if absent:
        raise GateError(f"{role} {path}/rows.csv: missing columns {absent}")
    records = records[BASELINE_RECORD_COLUMNS].astype({"example_id": str, "score": float})
    rows = rows.astype({"task": str, "lang": str, "perturbation": str, "metric": str})
    return RunData(path, manifest, rows, records)


def _read_manifest(path: Path, role: str) -> dict[str, Any]:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GateError(f"{role} {path}: not found (is {path.parent} a run directory or a baseline?)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GateError(f"{role} {path}: unreadable ({exc})") from None
    if not isinstance(manifest, dict):
        raise GateError(f"{role} {path}: expected a JSON object")
    return manifest


def _read(path: Path, role: str, reader) -> pd.DataFrame:
    if not path.exists():
        raise GateError(f"{role} {path}: not found")
    try:
        return reader(path)
    except Exception as exc:  # pandas/pyarrow raise many types for a damaged file
        raise GateError(f"{role} {path}: unreadable ({type(exc).__name__}: {exc})") from None


def baseline_manifest(run: RunData) -> dict[str, Any]:
    """The manifest subset a baseline keeps, with where it came from."""
    m = run.manifest
    out = {k: m[k] for k in MANIFEST_KEYS if k in m}
    ckpt = m.get("checkpoint", {})
    out["checkpoint"] = {k: ckpt[k] for k in CHECKPOINT_KEYS if k in ckpt}
    if "tasks" in ckpt:  # one checkpoint per task: keep each one's identity
        out["checkpoint"]["tasks"] = {t: {k: d[k] for k in CHECKPOINT_KEYS if k in d} for t, d in ckpt["tasks"].items()}
    out["versions"] = {"xrobust": m.get("versions", {}).get("xrobust")}
    out["baseline"] = {"from": str(run.path), "written": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    return out


def write_baseline(run_dir: str | Path, to: str | Path) -> dict[str, Path]:
    """Write the baseline of a complete run to `to` (created; its three files replaced); return the paths."""
    run = load_run(run_dir, "run")
    to = Path(to)
    if to.resolve() == run.path.resolve():
        raise GateError(f"--to {to}: is the run directory itself; choose another directory")
    to.mkdir(parents=True, exist_ok=True)
    files = {"manifest": to / "run.json", "rows": to / "rows.csv", "records": to / "records.parquet"}
    records = run.records.sort_values(ITEM_KEYS, kind="stable").reset_index(drop=True)
    records.to_parquet(files["records"], index=False)
    shutil.copyfile(run.path / "rows.csv", files["rows"])
    files["manifest"].write_text(json.dumps(baseline_manifest(run), indent=2, ensure_ascii=False) + "\n",
                                 encoding="utf-8")
    return files
