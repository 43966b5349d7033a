"""Peak memory of a 15-language sweep vs the size of the model (target: peak <= model size + 1.5 GB).

    python benchmarks/sweep_memory.py                         # demo model (300/lang) and XLM-R-base-shaped (20/lang)
    python benchmarks/sweep_memory.py --base-limit 5 --skip-demo

Each sweep is `xrobust run suites/demo.yaml` (15 XNLI languages x 13 cells) in its own process, without
the prediction cache; the peak resident set size is that process's `ru_maxrss` (os.wait4). Model size is
the bytes of its *.safetensors files. Sweeps:
  demo   the demo model (`xrobust demo`'s checkpoint, ~11 MB) on all 300 examples per language;
  base   the XLM-R-base-shaped random-weights classifier of harness_vs_raw.py (1.11 GB) on --base-limit
         examples per language (memory does not grow with the limit beyond the records, ~1 KB each).
The first row, a process that only imports xrobust, torch and transformers, is the runtime's floor.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from harness_vs_raw import DEMO_SUITE, REPO, base_model_dir, model_size_bytes

GB = 1e9
BUDGET = 1.5 * GB


def peak_rss(cmd: list[str]) -> int:
    """Peak RSS in bytes of `cmd` run to completion in a child process."""
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed with exit {proc.returncode}")
    return usage.ru_maxrss * 1024  # kilobytes on Linux


def sweep(model_dir: Path, limit: int, dtype: str, out: Path) -> list[str]:
    """The `xrobust run` command of one 15-language sweep."""
    return [sys.executable, "-m", "harness.cli", "run", str(DEMO_SUITE), "--model", str(model_dir), "--out",
            str(out), "--limit", str(limit), "--dtype", dtype, "--no-cache", "-q"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base-limit", type=int, default=20, help="examples per language for the base-size model")
    ap.add_argument("--demo-limit", type=int, default=300, help="examples per language for the demo model")
    ap.add_argument("--dtype", default="auto", help="auto (float32 on CPU) | float32 | bfloat16")
    ap.add_argument("--skip-demo", action="store_true")
    args = ap.parse_args()

    from harness.modelbuild import ensure_demo_model

    tmp = Path(tempfile.mkdtemp(prefix="xrobust-bench-mem-"))
    floor = peak_rss([sys.executable, "-c", "import harness.cli, harness.runner, torch, transformers"])
    rows = [("imports only (xrobust, torch, transformers)", "-", 0, floor)]
    if not args.skip_demo:
        demo = ensure_demo_model()
        rows.append((f"demo model, 15 languages x 13 cells x {args.demo_limit}", "demo", model_size_bytes(demo),
                     peak_rss(sweep(demo, args.demo_limit, args.dtype, tmp / "demo"))))
    base = base_model_dir()
    rows.append((f"XLM-R-base-shaped, 15 languages x 13 cells x {args.base_limit}", "base", model_size_bytes(base),
                 peak_rss(sweep(base, args.base_limit, args.dtype, tmp / "base"))))

    print(f"dtype {args.dtype}; peak RSS of the `xrobust run` process (ru_maxrss); GB = 10^9 bytes\n")
    print("| sweep | model size GB | peak RSS GB | peak − model GB | budget (model + 1.5 GB) | within |")
    print("|---|---:|---:|---:|---:|---|")
    for name, _, size, peak in rows:
        if not size:
            print(f"| {name} | – | {peak / GB:.2f} | – | – | – |")
            continue
        print(f"| {name} | {size / GB:.3f} | {peak / GB:.2f} | {(peak - size) / GB:.2f} | {(size + BUDGET) / GB:.2f} | "
              f"{'yes' if peak <= size + BUDGET else 'NO'} |")


if __name__ == "__main__":
    main()
