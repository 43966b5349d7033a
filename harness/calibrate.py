"""Severity calibration: how many grapheme edits a nominal severity makes in each language and script.

A `WordEditPerturbation`'s severity is the share of eligible *words* it edits, one grapheme edit per
word. The measured grapheme edit rate (edits per non-space grapheme) is then roughly
`severity / graphemes-per-word`, so it follows word length: Chinese ICU words (~1.6 graphemes) get
~2.5x the English rate, Hindi (~2.5) ~2x, Thai (~2.9) ~1.6x, Turkish (~6.4) ~0.7x.
`calibrate` measures that per language and perturbation against the English (Latin) figure.

The fix is a second severity unit. With `unit="grapheme"` a text with G non-space graphemes gets
`severity * G / REFERENCE_GRAPHEMES_PER_WORD` word edits (stochastically rounded, at most one per
eligible word): a fixed number of edits per grapheme in every script, equal to what the word unit
gives on English, whose words average 4.75 graphemes. `grapheme_word_share` converts it to the
share of eligible words that `WordEditPerturbation.perturb` already draws from, so the grapheme
unit changes how many words are chosen and nothing else (same RNG draws, same edits).
Word-edit perturbations take it as their `unit` parameter (`params: {unit: grapheme}` in a suite);
`calibrate --unit grapheme` applies the same conversion to other perturbations where it can.
"""
from __future__ import annotations

import json
import random
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

from .errors import ConfigError, DataError
from .perturbation import REFERENCE_GRAPHEMES_PER_WORD, SEVERITY_UNITS, content_graphemes, grapheme_word_share  # noqa: F401
from .text import dominant_script, nfc, word_spans

REFERENCE_LANG = "en"
TOLERANCE = 0.15  # the bar: every supported script within +-15% of the Latin (en) rate
DEFAULT_SEVERITIES = (0.1, 0.3, 0.5)

_HERE = Path(__file__).resolve().parent
DEMO_XNLI = _HERE / "demo_data" / "xnli"
GOLDEN_INPUTS = _HERE.parent / "tests" / "golden" / "inputs.json"


def check_unit(unit: str) -> str:
    """Validate a severity unit name."""
    if unit not in SEVERITY_UNITS:
        raise ConfigError(f"severity unit must be one of {list(SEVERITY_UNITS)}, got {unit!r}")
    return unit


# --------------------------------------------------------------------------- sample texts

def sample_texts(lang: str, n: int, file: str | Path | None = None, field: str | None = None) -> tuple[list[str], str]:
    """Up to `n` distinct NFC texts for `lang` and where they came from.

    Source, in order: `file` (a `{lang}` in the path is replaced; `.jsonl` rows give `field`, default
    `text`; other files give one text per line); the shipped XNLI demo data (premises, then
    hypotheses); the golden inputs (one sentence per language).
    """
    if file is not None:
        path = Path(str(file).replace("{lang}", lang))
        return _distinct(_file_texts(path, field), n), str(path)
    demo = DEMO_XNLI / f"{lang}.jsonl"
    if demo.exists():
        rows = list(_jsonl(demo))
        fields = (field,) if field else ("premise", "hypothesis")
        texts = [r[f] for f in fields for r in rows if isinstance(r.get(f), str)]
        return _distinct(texts, n), str(demo)
    if GOLDEN_INPUTS.exists():
        items = json.loads(GOLDEN_INPUTS.read_text(encoding="utf-8"))
        texts = [it["text"] for it in items if it.get("lang") == lang]
        if texts:
            return _distinct(texts, n), str(GOLDEN_INPUTS)
    raise ConfigError(f"no sample text for language {lang!r}: pass --file with one text per line "
                      f"(or JSONL with --field); demo data exists for {sorted(p.stem for p in DEMO_XNLI.glob('*.jsonl'))}")


def _file_texts(path: Path, field: str | None) -> list[str]:
    if not path.exists():
        raise DataError(f"{path}: file not found")
    if path.suffix == ".jsonl":
        key = field or "text"
        out = []
        for lineno, row in enumerate(_jsonl(path), 1):
            value = row.get(key)
            if not isinstance(value, str):
                raise DataError(f"{path}:{lineno}: no text field {key!r}; fields: {sorted(row)}")
            out.append(value)
        return out
    try:
        return [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read ({exc})") from None


def _jsonl(path: Path) -> Iterable[dict]:
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if line.strip():
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DataError(f"{path}:{lineno}: invalid JSON ({exc.msg})") from None
                if isinstance(row, dict):
                    yield row


def _distinct(texts: Iterable[str], n: int) -> list[str]:
    out = list(dict.fromkeys(nfc(t) for t in texts if t and t.strip()))
    return out[:n]


# --------------------------------------------------------------------------- measurement

@dataclass(frozen=True)
class TextMeasure:
    """One text perturbed once."""

    applied: bool
    edit_rate: float
    n_eligible: int
    n_words: int
    graphemes: int
    capped: bool  # grapheme unit asked for more words than the text has eligible


@dataclass(frozen=True)
class CalibrationRow:
    """One (perturbation, severity, language or script) cell of a calibration."""

    perturbation: str
    severity: float
    group: str  # language code, or script when grouped by script
    script: str
    langs: tuple[str, ...]
    unit: str
    n: int
    supported: bool
    applied_rate: float
    mean_edit_rate: float
    ratio_to_reference: float | None
    ratio_se: float | None  # standard error of the ratio (delta method over texts)
    within_tolerance: bool | None
    graphemes_per_word: float
    eligible_share: float
    capped_share: float
    note: str = ""


@dataclass
class CalibrationReport:
    """Every row of a calibration, with what it was measured on."""

    rows: list[CalibrationRow]
    unit: str
    by: str
    reference: str = REFERENCE_LANG
    tolerance: float = TOLERANCE
    sources: dict[str, str] = field(default_factory=dict)

    def checked(self) -> list[CalibrationRow]:
        """Rows held to the tolerance: supported scripts with a reference figure."""
        return [r for r in self.rows if r.within_tolerance is not None]

    def failures(self) -> list[CalibrationRow]:
        """Checked rows outside the tolerance."""
        return [r for r in self.checked() if not r.within_tolerance]

    def to_dict(self) -> dict:
        return {"reference": self.reference, "tolerance": self.tolerance, "unit": self.unit, "by": self.by,
                "reference_graphemes_per_word": REFERENCE_GRAPHEMES_PER_WORD, "sources": self.sources,
                "rows": [asdict(r) for r in self.rows]}


Perturber = Callable[[str, float, random.Random, str], tuple[object, bool]]  # -> (PerturbResult, capped)


def calibrate(
    langs: Sequence[str],
    perturbations: Sequence[str],
    severities: Sequence[float] = DEFAULT_SEVERITIES,
    n: int = 200,
    *,
    unit: str = "word",
    by: str = "lang",
    seed: int = 0,
    file: str | Path | None = None,
    field: str | None = None,
) -> CalibrationReport:
    """Perturb up to `n` sample texts per language at each severity; compare each language's (or
    script's) mean grapheme edit rate with the English figure of the same perturbation and severity."""
    from .perturbation import make_perturbation
    from .rng import derive_rng

    check_unit(unit)
    if by not in ("lang", "script"):
        raise ConfigError(f"--by must be lang or script, got {by!r}")
    if n < 1:
        raise ConfigError(f"--n must be >= 1, got {n}")
    for s in severities:
        if not 0.0 < s <= 1.0:
            raise ConfigError(f"severities must be in (0, 1], got {s}")
    langs = list(dict.fromkeys(langs))
    if not langs or not perturbations:
        raise ConfigError("give at least one language and one perturbation")
    measured = list(dict.fromkeys([REFERENCE_LANG, *langs]))  # the reference is always measured
    # the reference comes from the shipped data unless English is one of the languages asked for
    samples = {lang: sample_texts(lang, n, file, field) if lang in langs else sample_texts(lang, n)
               for lang in measured}
    scripts = {lang: dominant_script(" ".join(texts)) for lang, (texts, _) in samples.items()}
    rows: list[CalibrationRow] = []
    for pid in perturbations:
        p = make_perturbation(pid)
        perturb, note = perturber(p, unit)
        for sev in severities:
            per_lang: dict[str, list[TextMeasure] | str] = {}
            for lang in measured:
                try:
                    per_lang[lang] = [
                        _measure(perturb, text, sev, derive_rng(seed, p.id, sev, f"calibrate:{lang}:{i}", "text"), lang)
                        for i, text in enumerate(samples[lang][0])]
                except ConfigError as exc:  # e.g. an optional engine that is not installed
                    per_lang[lang] = str(exc)
            rows += _rows(p, sev, unit, by, langs, scripts, per_lang, note)
    return CalibrationReport(rows, unit, by, sources={lang: src for lang, (_, src) in samples.items()})


def perturber(p, unit: str) -> tuple[Perturber, str]:
    """`p.perturb` at a nominal severity in `unit`, returning (result, capped), and a note.

    The grapheme unit uses the perturbation's own `unit` field when it has one; otherwise, for a
    WordEditPerturbation, it probes the eligible words (severity 0 draws nothing and edits nothing)
    and passes `grapheme_word_share` as the word severity: the same outputs as the field would give.
    """
    from .perturbation import WordEditPerturbation, make_perturbation

    check_unit(unit)
    if unit == "word":
        return (lambda text, sev, rng, lang: (p.perturb(text, sev, rng, lang), False)), ""
    if "unit" in p.params():
        q = make_perturbation(p.id, {**p.params(), "unit": "grapheme"})

        def native(text: str, sev: float, rng: random.Random, lang: str):
            res = q.perturb(text, sev, rng, lang)
            return res, _capped(text, sev, res.n_eligible)
        return native, ""
    if isinstance(p, WordEditPerturbation):
        def converted(text: str, sev: float, rng: random.Random, lang: str):
            n_elig = p.perturb(text, 0.0, random.Random(0), lang).n_eligible
            return p.perturb(text, grapheme_word_share(text, sev, n_elig), rng, lang), _capped(text, sev, n_elig)
        return converted, ""
    return ((lambda text, sev, rng, lang: (p.perturb(text, sev, rng, lang), False)),
            "no grapheme unit (not a word-edit perturbation): measured per word")


def _capped(text: str, sev: float, n_eligible: int) -> bool:
    return n_eligible > 0 and sev * content_graphemes(text) / REFERENCE_GRAPHEMES_PER_WORD > n_eligible


def _measure(perturb: Perturber, text: str, sev: float, rng: random.Random, lang: str) -> TextMeasure:
    res, capped = perturb(text, sev, rng, lang)
    return TextMeasure(res.applied, res.edit_rate, res.n_eligible, len(word_spans(text, lang)),
                       content_graphemes(text), capped)


def _pool(ms: list[TextMeasure]) -> dict[str, float]:
    n = len(ms)
    words = sum(m.n_words for m in ms)
    mean = statistics.fmean(m.edit_rate for m in ms) if n else 0.0
    return {
        "n": n,
        "applied_rate": sum(m.applied for m in ms) / n if n else 0.0,
        "mean_edit_rate": mean,
        "se": statistics.stdev(m.edit_rate for m in ms) / n ** 0.5 if n > 1 else 0.0,
        "graphemes_per_word": sum(m.graphemes for m in ms) / words if words else 0.0,
        "eligible_share": sum(m.n_eligible for m in ms) / words if words else 0.0,
        "capped_share": sum(m.capped for m in ms) / n if n else 0.0,
    }


def _rows(p, sev: float, unit: str, by: str, langs: list[str], scripts: dict[str, str],
          per_lang: dict[str, list[TextMeasure] | str], note: str) -> list[CalibrationRow]:
    ref = per_lang[REFERENCE_LANG]
    ref_stats = _pool(ref) if isinstance(ref, list) else None
    ref_ok = ref_stats is not None and ref_stats["mean_edit_rate"] > 0
    groups: dict[str, list[str]] = {}
    for lang in langs:
        groups.setdefault(lang if by == "lang" else scripts[lang], []).append(lang)
    out = []
    for key, members in groups.items():
        errors = [per_lang[m] for m in members if isinstance(per_lang[m], str)]
        measures = [t for m in members if isinstance(per_lang[m], list) for t in per_lang[m]]
        stats = _pool(measures)
        script = scripts[members[0]]
        supported = not errors and p.supports_script(script)
        ratio = se = within = None
        if supported and ref_ok:
            a, b = stats["mean_edit_rate"], ref_stats["mean_edit_rate"]
            ratio = a / b
            se = ratio * ((stats["se"] / a) ** 2 + (ref_stats["se"] / b) ** 2) ** 0.5 if a > 0 else 0.0
            within = abs(ratio - 1.0) <= TOLERANCE + 1e-12
        why = errors[0] if errors else "; ".join(x for x in (note, _explain(p, script, supported, ratio, se, stats,
                                                                                  ref_stats, unit)) if x)
        out.append(CalibrationRow(
            p.id, sev, key, script, tuple(members), unit, int(stats["n"]), supported,
            round(stats["applied_rate"], 4), round(stats["mean_edit_rate"], 5),
            None if ratio is None else round(ratio, 3), None if se is None else round(se, 3), within,
            round(stats["graphemes_per_word"], 2), round(stats["eligible_share"], 3), round(stats["capped_share"], 3),
            why))
    return out


def _explain(p, script: str, supported: bool, ratio: float | None, se: float | None, stats: dict,
             ref: dict | None, unit: str) -> str:
    if not supported:
        return f"{script} not supported by {p.id}"
    if ratio is None or ref is None or abs(ratio - 1.0) <= TOLERANCE:
        return ""
    if ratio < 1.0 and stats["eligible_share"] < 0.5 * ref["eligible_share"]:
        return (f"few eligible words: {stats['eligible_share']:.0%} of words vs {ref['eligible_share']:.0%} in "
                f"{REFERENCE_LANG}; {p.id} covers little of {script}")
    if ratio < 1.0 and unit == "grapheme" and stats["capped_share"] > 0.05:
        return (f"too few eligible words: {stats['capped_share']:.0%} of texts have fewer than the edits asked "
                f"({stats['eligible_share']:.0%} of words eligible vs {ref['eligible_share']:.0%} in {REFERENCE_LANG})")
    if se is not None and abs(ratio - 1.0) <= TOLERANCE + 2 * se:
        return f"within 2 standard errors (±{se:.2f}): raise --n"
    return (f"{stats['graphemes_per_word']:.1f} graphemes/word vs {ref['graphemes_per_word']:.1f} in "
            f"{REFERENCE_LANG}, {stats['eligible_share']:.0%} of words eligible vs {ref['eligible_share']:.0%}")


def demo_languages() -> list[str]:
    """Languages of the shipped XNLI demo data (the default of `xrobust calibrate`)."""
    return sorted(p.stem for p in DEMO_XNLI.glob("*.jsonl"))
