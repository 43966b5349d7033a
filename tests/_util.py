"""Small helpers shared by the tests (imported as `_util`; tests/ is on sys.path under pytest)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    """Run the xrobust CLI in-process; return (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    captured = capsys.readouterr()
    return exc.value.code, captured.out, captured.err


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    """Write rows as JSONL (UTF-8) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def xnli_rows(lang: str, n: int) -> list[dict]:
    """The first n rows of the shared XNLI sample for `lang`."""
    lines = (SHARED / "xtreme_r" / "xnli" / f"{lang}.jsonl").read_text(encoding="utf-8").splitlines()[:n]
    return [json.loads(x) for x in lines]
