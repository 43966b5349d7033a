"""nlpaug's character augmenters as xrobust perturbations (optional engine: `pip install xrobust[nlpaug]`).

`nlpaug.keyboard.v1` (KeyboardAug), `nlpaug.ocr.v1` (OcrAug) and `nlpaug.random_char.v1`
(RandomCharAug), configured script-safely: `tokenizer=str.split`, `reverse_tokenizer=" ".join`,
`aug_word_p = severity` (nlpaug rounds `severity * tokens` up), no cap on the number of words,
`edits_per_word` characters per chosen word (nlpaug's `aug_char_min = aug_char_max`); keyboard maps
are nlpaug's own where it ships one (de en es fr he it nl pl th tr uk) and the layouts in
attacks/resources/keyboards otherwise (via `model_path`); RandomCharAug draws from the script's
alphabet (attacks/char/_alphabet.py), never ASCII by default.

Only safe tokens are edited (see `_engine.py`): in Indic, Thai or Arabic-with-harakat text the result
is `applied=False` with reason "nlpaug splits grapheme clusters in <script>". They are registered
whether or not nlpaug is installed; without it `perturb` raises ConfigError("... install xrobust[nlpaug]").
Outputs depend on nlpaug's version (pinned in the extra): a new nlpaug that changes them needs `.v2` ids.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar

from harness.errors import ConfigError
from harness.perturbation import PERTURBATIONS, Perturbation, PerturbResult, splice
from harness.text import dominant_script, grapheme_edit_rate, ill_formed, nfc

from ._engine import SAFE_SCRIPTS, keyboard_model, nlpaug_char, refusal_reason, seeded_global_rng, token_status

_ACTIONS = ("insert", "substitute", "swap", "delete")
_TOKEN = re.compile(r"\S+")  # stdlib re: the same whitespace as str.split()


@dataclass(frozen=True)
class NlpaugCharPerturbation(Perturbation):
    """Base of the nlpaug wrappers: safe tokens, seeded global RNG, edited tokens spliced back."""

    edits_per_word: int = 1
    min_char: int = 4  # nlpaug skips tokens shorter than this (code points)

    family: ClassVar[str] = "nlpaug"
    keeps_token_count: ClassVar[bool] = True
    requires: ClassVar[tuple[str, ...]] = ("nlpaug",)  # optional dependency (xrobust[nlpaug])

    def __post_init__(self) -> None:
        if self.edits_per_word < 1:
            raise ConfigError(f"{self.id}: edits_per_word must be >= 1, got {self.edits_per_word}")
        if self.min_char < 1:
            raise ConfigError(f"{self.id}: min_char must be >= 1, got {self.min_char}")

    def augmenter(self, lang: str, script: str, text: str) -> Any | None:
        """The configured nlpaug augmenter for a `lang` text in `script` (cached), or None."""
        raise NotImplementedError

    def perturb(self, text: str, severity: float, rng: random.Random, lang: str = "und") -> PerturbResult:
        if not 0.0 <= severity <= 1.0:
            raise ConfigError(f"{self.id}: severity must be in [0, 1], got {severity}")
        nlpaug_char()  # ConfigError when nlpaug is missing, whatever the text
        text = nfc(text)
        spans = [(m.start(), m.end()) for m in _TOKEN.finditer(text)]
        tokens = [text[s:e] for s, e in spans]
        statuses = [token_status(t, self.scripts) for t in tokens]
        safe = [i for i, st in enumerate(statuses) if st == "ok"]
        eligible = [i for i in safe if len(tokens[i]) >= self.min_char]
        dominant = dominant_script(text)
        if not safe:
            return PerturbResult(text, False, 0, 0, 0.0, reason=refusal_reason(self.id, text, dominant, statuses, self.scripts))
        if not eligible:
            return PerturbResult(text, False, 0, 0, 0.0, reason=f"no word of {self.min_char}+ characters in a supported script")
        if severity == 0.0:
            return PerturbResult(text, False, len(eligible), 0, 0.0, reason="severity selected no word")
        script = dominant if dominant in self.scripts else dominant_script(" ".join(tokens[i] for i in safe))
        aug = self.augmenter(lang, script, text)
        if aug is None:
            return PerturbResult(text, False, len(eligible), 0, 0.0, reason=f"{self.id} has nothing to draw from for {script}")
        new_tokens = self._run(aug, tokens, statuses, severity, rng.getrandbits(32))
        return _splice(text, spans, tokens, new_tokens, eligible)

    def _run(self, aug: Any, tokens: list[str], statuses: list[str], severity: float, seed: int) -> list[str]:
        stop = {t for t, st in zip(tokens, statuses) if st != "ok"}
        with seeded_global_rng(seed):
            aug.aug_word_p = severity
            aug.stopwords = stop or None
            result = aug.augment(" ".join(tokens))
        out = result[0] if isinstance(result, list) else result
        new_tokens = out.split(" ") if isinstance(out, str) else []
        return new_tokens if len(new_tokens) == len(tokens) else list(tokens)  # never reshape the text


def _splice(text: str, spans: list[tuple[int, int]], old: list[str], new: list[str], eligible: list[int]) -> PerturbResult:
    """Put changed, well-formed eligible tokens back into `text` at their spans; everything else
    stays byte-identical."""
    n_eligible = len(eligible)
    allowed = set(eligible)
    edits = [(s, e, b) for i, ((s, e), a, b) in enumerate(zip(spans, old, new))
             if i in allowed and b != a and b and nfc(b) == b and ill_formed(b) <= ill_formed(a)
             and not any(ch.isspace() for ch in b)]
    if not edits:
        return PerturbResult(text, False, n_eligible, 0, 0.0, reason="nlpaug changed no word")
    out, alignment = splice(text, edits)
    return PerturbResult(out, True, n_eligible, len(alignment), grapheme_edit_rate(text, out), tuple(alignment))


def _word_args(p: NlpaugCharPerturbation) -> dict[str, Any]:
    return {"tokenizer": str.split, "reverse_tokenizer": " ".join, "aug_word_p": 0.0, "aug_word_min": 1,
            "aug_word_max": None, "aug_char_min": p.edits_per_word, "aug_char_max": p.edits_per_word,
            "min_char": p.min_char}


@PERTURBATIONS.register("nlpaug.keyboard.v1")
@dataclass(frozen=True)
class NlpaugKeyboard(NlpaugCharPerturbation):
    """nlpaug KeyboardAug: a character becomes a neighbouring key ('hello' -> 'hrllo').

    Layout: the language's own when it writes the text's script, else the script's default
    (attacks/char/_keyboards.py); nlpaug's map where nlpaug ships that layout.
    """

    id = "nlpaug.keyboard.v1"
    description = "nlpaug KeyboardAug (neighbouring key) on words of scripts without combining marks"
    scripts = SAFE_SCRIPTS

    def augmenter(self, lang: str, script: str, text: str) -> Any | None:
        from attacks.char._keyboards import layout_for

        layout = layout_for(lang, script)
        return None if layout is None else _keyboard_aug(self, layout)


@lru_cache(maxsize=256)
def _keyboard_aug(p: NlpaugKeyboard, layout: str) -> Any:
    name, path = keyboard_model(layout)
    return nlpaug_char().KeyboardAug(lang=name, model_path=path, include_special_char=True,
                                     include_numeric=True, include_upper_case=True, **_word_args(p))


@PERTURBATIONS.register("nlpaug.ocr.v1")
@dataclass(frozen=True)
class NlpaugOcr(NlpaugCharPerturbation):
    """nlpaug OcrAug: a character becomes an OCR confusion ('hello' -> 'he1lo'); nlpaug's map is Latin only."""

    id = "nlpaug.ocr.v1"
    description = "nlpaug OcrAug (OCR confusions, nlpaug's English map) on Latin words"
    scripts = frozenset({"Latn"})
    min_char: int = 1  # nlpaug's OcrAug default

    def augmenter(self, lang: str, script: str, text: str) -> Any | None:
        return _ocr_aug(self)


@lru_cache(maxsize=64)
def _ocr_aug(p: NlpaugOcr) -> Any:
    return nlpaug_char().OcrAug(**_word_args(p))


@PERTURBATIONS.register("nlpaug.random_char.v1")
@dataclass(frozen=True)
class NlpaugRandomChar(NlpaugCharPerturbation):
    """nlpaug RandomCharAug: `action` insert | substitute | swap | delete one character of a word,
    drawing new characters from the script's alphabet ('мир' -> 'мор', never ASCII in Cyrillic)."""

    id = "nlpaug.random_char.v1"
    description = "nlpaug RandomCharAug (insert/substitute/swap/delete) with same-script letters, on words of scripts without combining marks"
    scripts = SAFE_SCRIPTS
    action: str = "substitute"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.action not in _ACTIONS:
            raise ConfigError(f"{self.id}: action must be one of {list(_ACTIONS)}, got {self.action!r}")

    def augmenter(self, lang: str, script: str, text: str) -> Any | None:
        from attacks.char._alphabet import alphabet

        pool = alphabet(lang, script, text).pool
        return _random_aug(self, pool) if pool else None


@lru_cache(maxsize=256)
def _random_aug(p: NlpaugRandomChar, candidates: tuple[str, ...]) -> Any:
    return nlpaug_char().RandomCharAug(action=p.action, candidates=list(candidates), swap_mode="adjacent",
                                       **_word_args(p))
