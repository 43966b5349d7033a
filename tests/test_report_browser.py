"""report.html of a real small run opened in headless Chromium: the screenshot is not blank and the page raises
no console errors (its inline script runs and works); the run's tokenization diagnostics agree with its records.

Console errors are caught two ways, because neither sees everything:
1. Chromium's own log (`--enable-logging=stderr --v=0`) prints every console message and uncaught exception
   as an `INFO:CONSOLE` line; the report writes nothing to the console, so any such line is a failure.
2. A probe script injected first into a copy of the page records `error` events (uncaught exceptions and,
   in the capture phase, resources that failed to load; file:// failures never reach the log), unhandled
   promise rejections and console.error/warn calls into an attribute of <html>, read back with `--dump-dom`.
A negative control shows both catch a page with a deliberate error; a blank page's screenshot is judged blank.

Chromium is required in CI (CI=true: a missing binary fails the test; `.ci/run` installs Debian's `chromium`)
and skipped locally with the reason when absent.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import textwrap
import zlib
from html import unescape
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _util import run_cli, write_jsonl, xnli_rows

from harness.cli import main

pytestmark = pytest.mark.slow

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--hide-scrollbars", "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000")
CONSOLE_LINE = re.compile(r":CONSOLE[:(]")

PROBE = """<script>(function () {
  var errors = [];
  function note(message) {
    errors.push(String(message));
    document.documentElement.setAttribute("data-probe-errors", JSON.stringify(errors));
  }
  document.documentElement.setAttribute("data-probe-errors", "[]");
  window.addEventListener("error", function (e) {
    var t = e.target;
    note(e.message || ("failed to load " + ((t && (t.src || t.href)) || "a resource")));
  }, true);
  window.addEventListener("unhandledrejection", function (e) { note("unhandled rejection: " + e.reason); });
  ["error", "warn"].forEach(function (level) {
    var original = console[level];
    console[level] = function () {
      note("console." + level + ": " + Array.prototype.join.call(arguments, " "));
      return original.apply(console, arguments);
    };
  });
  window.addEventListener("load", function () {
    var pick = document.querySelector("[data-pick]");
    var dimmed = -1;
    if (pick) {
      pick.dispatchEvent(new MouseEvent("click", {bubbles: true}));
      dimmed = document.querySelectorAll(".dim").length;
      pick.dispatchEvent(new MouseEvent("click", {bubbles: true}));
    }
    document.documentElement.setAttribute("data-probe-dimmed", String(dimmed));
    document.documentElement.setAttribute("data-probe-after", String(document.querySelectorAll(".dim").length));
  });
})();</script>"""


def chromium() -> str:
    """The Chromium binary; fails in CI and skips locally (with the reason) when there is none."""
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    reason = (f"no Chromium on PATH (looked for {', '.join(BROWSERS)}); install Debian's with "
              "`apt-get install -y chromium` (.ci/run does)")
    if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
        pytest.fail(reason)
    pytest.skip(reason)


def run_chromium(args: list[str], tmp: Path) -> subprocess.CompletedProcess:
    """Headless Chromium with its own profile directory; stdout and stderr captured."""
    profile = tmp / f"profile-{len(list(tmp.glob('profile-*')))}"
    cmd = [chromium(), *FLAGS, f"--user-data-dir={profile}", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr[-3000:]}"
    return proc


def console_lines(stderr: str) -> list[str]:
    """Console messages and uncaught exceptions from Chromium's log."""
    return [line for line in stderr.splitlines() if CONSOLE_LINE.search(line)]


def probe(page: Path, tmp: Path) -> tuple[dict[str, str], list[str]]:
    """Open a copy of `page` with the probe injected first: (attributes of <html> after load, console lines)."""
    text = page.read_text(encoding="utf-8")
    head = re.search(r"<head[^>]*>", text)
    assert head, f"{page}: no <head>"
    probed = tmp / f"probed-{page.name}"
    probed.write_text(text[:head.end()] + PROBE + text[head.end():], encoding="utf-8")
    proc = run_chromium(["--dump-dom", probed.as_uri()], tmp)
    tag = re.search(r"<html([^>]*)>", proc.stdout)
    assert tag, f"no <html> in the dumped DOM:\n{proc.stdout[:500]}"
    attrs = {k: unescape(v) for k, v in re.findall(r'([\w-]+)="([^"]*)"', tag.group(1))}
    return attrs, console_lines(proc.stderr)


def screenshot(page: Path, png: Path, tmp: Path) -> list[str]:
    """Screenshot of `page` at 1280 x 2000; returns the console lines of that load."""
    proc = run_chromium([f"--screenshot={png}", "--window-size=1280,2000", page.as_uri()], tmp)
    assert png.exists() and png.stat().st_size > 0, proc.stderr[-2000:]
    return console_lines(proc.stderr)


# --- PNG decoding (stdlib zlib + numpy; no imaging library) ----------------------------------------------------


def read_png(path: Path) -> np.ndarray:
    """Pixels (height, width, channels) of an 8-bit, non-interlaced RGB or RGBA PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path}: not a PNG"
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    assert header is not None, f"{path}: no IHDR"
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, f"{path}: unsupported PNG {header}"
    bpp = 3 if colour == 2 else 4
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), dtype=np.uint8).reshape(height, 1 + width * bpp)
    out = np.zeros((height, width * bpp), dtype=np.uint8)
    prev = np.zeros(width * bpp, dtype=np.int64)
    for y in range(height):
        kind, line = int(raw[y, 0]), raw[y, 1:].astype(np.int64)
        if kind == 0:
            cur = line
        elif kind == 1:  # Sub: a running sum along each channel
            cur = np.cumsum(line.reshape(width, bpp), axis=0).reshape(-1) % 256
        elif kind == 2:  # Up
            cur = (line + prev) % 256
        elif kind in (3, 4):  # Average, Paeth: each byte depends on the one just decoded
            cur = np.frombuffer(_sequential_row(kind, line.tolist(), prev.tolist(), bpp), dtype=np.uint8)
        else:
            raise AssertionError(f"{path}: unknown PNG filter {kind} in row {y}")
        out[y] = cur
        prev = cur.astype(np.int64)
    return out.reshape(height, width, bpp)


def _sequential_row(kind: int, line: list[int], prev: list[int], bpp: int) -> bytes:
    out = bytearray(len(line))
    for i, x in enumerate(line):
        a = out[i - bpp] if i >= bpp else 0
        b = prev[i]
        if kind == 3:
            out[i] = (x + (a + b) // 2) & 255
            continue
        c = prev[i - bpp] if i >= bpp else 0
        p = a + b - c
        pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
        out[i] = (x + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    return bytes(out)


def content_stats(pixels: np.ndarray) -> dict[str, float]:
    """Share of pixels unlike the background (the commonest colour), distinct colours, saturated pixels."""
    rgb = pixels[..., :3].reshape(-1, 3).astype(np.int64)
    packed = (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]
    values, counts = np.unique(packed, return_counts=True)
    saturated = int(((rgb.max(axis=1) - rgb.min(axis=1)) >= 80).sum())
    return {"foreground": 1.0 - counts.max() / len(packed), "colours": len(values), "saturated": saturated}


def test_png_decoder_on_a_hand_made_image_with_every_filter():
    # 3 x 5 RGB: rows filtered None, Sub, Up, Average, Paeth; the expected pixels are chosen, the filtered bytes
    # computed from the PNG specification by hand below
    want = np.array([[[10, 20, 30], [40, 50, 60], [70, 80, 90]],
                     [[200, 100, 0], [210, 90, 5], [220, 80, 10]],
                     [[201, 101, 1], [211, 91, 6], [221, 81, 11]],
                     [[0, 0, 0], [100, 100, 100], [255, 255, 255]],
                     [[5, 5, 5], [105, 95, 105], [250, 250, 250]]], dtype=np.int64)
    rows = [bytes([0]) + bytes(want[0].reshape(-1).tolist())]
    sub = want[1].reshape(-1).copy()
    sub[3:] = (want[1].reshape(-1)[3:] - want[1].reshape(-1)[:-3]) % 256
    rows.append(bytes([1]) + bytes(sub.tolist()))
    rows.append(bytes([2]) + bytes(((want[2] - want[1]) % 256).reshape(-1).tolist()))
    cur, up = want[3].reshape(-1), want[2].reshape(-1)
    avg = [(cur[i] - ((cur[i - 3] if i >= 3 else 0) + up[i]) // 2) % 256 for i in range(9)]
    rows.append(bytes([3]) + bytes(avg))
    cur, up = want[4].reshape(-1), want[3].reshape(-1)
    paeth = []
    for i in range(9):
        a, b, c = (cur[i - 3] if i >= 3 else 0), up[i], (up[i - 3] if i >= 3 else 0)
        p = a + b - c
        pred = a if abs(p - a) <= abs(p - b) and abs(p - a) <= abs(p - c) else b if abs(p - b) <= abs(p - c) else c
        paeth.append((cur[i] - pred) % 256)
    rows.append(bytes([4]) + bytes(paeth))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 3, 5, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b""))
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"xrobust-png-{os.getpid()}.png"
    path.write_bytes(png)
    try:
        np.testing.assert_array_equal(read_png(path), want)
    finally:
        path.unlink()


@pytest.fixture(scope="module")
def report_run(tmp_path_factory, tiny_classifier_dir) -> Path:
    """A real run: the tiny classifier, XNLI en and hi (30 examples), 2 perturbations x 2 severities."""
    work = tmp_path_factory.mktemp("browser-run")
    for lang in ("en", "hi"):
        write_jsonl(work / "data" / f"{lang}.jsonl", xnli_rows(lang, 30))
    suite = work / "suite.yaml"
    suite.write_text(textwrap.dedent("""\
        name: browser
        seed: 3
        tasks:
          - task: xnli
            data: {format: jsonl, path: "data/{lang}.jsonl"}
            languages: [en, hi]
        perturbations:
          - id: char.swap.v1
            severities: [0.2, 0.6]
          - id: char.keyboard.v1
            severities: [0.2, 0.6]
        stats: {bootstrap_samples: 200}
        """), encoding="utf-8")
    out = work / "run"
    with pytest.raises(SystemExit) as exc:
        main(["run", str(suite), "--model", str(tiny_classifier_dir), "--out", str(out), "--limit", "30", "-q"])
    assert exc.value.code == 0
    return out


def test_report_opens_in_headless_chromium_non_blank_without_console_errors(report_run, tmp_path):
    page = report_run / "report.html"
    text = page.read_text(encoding="utf-8")
    assert text.count('<svg class="curve"') == 2 and text.count('<svg class="heatmap"') == 2
    attrs, logged = probe(page, tmp_path)
    assert json.loads(attrs["data-probe-errors"]) == [] and logged == []
    assert "js" in attrs.get("class", "").split()  # the report's inline script ran to its end
    assert int(attrs["data-probe-dimmed"]) > 0 and attrs["data-probe-after"] == "0"  # legend click focuses, again restores
    png = tmp_path / "report.png"
    assert screenshot(page, png, tmp_path) == []
    pixels = read_png(png)
    assert pixels.shape[:2] == (2000, 1280)
    stats = content_stats(pixels)
    assert stats["foreground"] > 0.03 and stats["colours"] > 100 and stats["saturated"] > 500, stats


def test_detectors_catch_a_broken_page_and_a_blank_screenshot(tmp_path):
    broken = tmp_path / "broken.html"
    broken.write_text('<!DOCTYPE html><html><head><meta charset="utf-8"></head><body><p>x</p>'
                      '<img src="missing.png" alt=""><script>console.error("boom");</script>'
                      "<script>undefinedFunction();</script></body></html>", encoding="utf-8")
    attrs, logged = probe(broken, tmp_path)
    errors = json.loads(attrs["data-probe-errors"])
    assert "console.error: boom" in errors and any("undefinedFunction" in e for e in errors)
    assert any("missing.png" in e for e in errors)
    assert any("undefinedFunction is not defined" in line for line in logged)
    blank = tmp_path / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body></body></html>", encoding="utf-8")
    png = tmp_path / "blank.png"
    assert screenshot(blank, png, tmp_path) == []
    stats = content_stats(read_png(png))
    assert stats["foreground"] == 0.0 and stats["colours"] == 1 and stats["saturated"] == 0


def test_real_run_diagnostics_agree_with_records_and_slice(report_run, capsys):
    rows = pd.read_csv(report_run / "rows.csv")
    records = pd.read_parquet(report_run / "records.parquet")
    acc = rows[rows.metric == "accuracy"].set_index(["lang", "perturbation", "severity", "seed"])
    for key, g in records.groupby(["lang", "perturbation", "severity", "seed"]):
        r = acc.loc[key]
        assert r["ids_changed_rate"] == pytest.approx(g["ids_changed"].mean(), abs=1e-12)
        assert r["subtoken_change"] == pytest.approx((g["n_subtokens"] - g["n_subtokens_clean"]).mean(), abs=1e-12)
        assert r["fertility_change"] == pytest.approx(g["n_subtokens"].sum() / g["n_subtokens_clean"].sum() - 1,
                                                      abs=1e-12)
        assert r["unk_rate"] == pytest.approx(g["n_unk"].sum() / g["n_subtokens"].sum(), abs=1e-12)
        if key[1] == "clean":
            assert not g["ids_changed"].any() and (g["n_subtokens"] == g["n_subtokens_clean"]).all()
    perturbed = records[records.perturbation != "clean"]
    assert perturbed["ids_changed"].mean() > 0.5 and (perturbed["n_subtokens_clean"] > 0).all()
    code, out, err = run_cli(["slice", report_run, "--by", "length", "--format", "json", "--samples", "200"], capsys)
    assert code == 0, err
    table = pd.DataFrame(json.loads(out))
    assert set(table["lang"]) == {"en", "hi"} and table.groupby("lang")["n"].sum().tolist() == [30, 30]
    assert (table["n_pairs"] == 4 * table["n"]).all()  # every example under each of the 4 perturbed cells
    code, _, err = run_cli(["slice", report_run, "--by", "cmi"], capsys)
    assert code == 2 and "no code-mixing index" in err
