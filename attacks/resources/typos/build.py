"""Rebuild the typo lists in this folder from their sources (see README.md); not imported at run time.

    python attacks/resources/typos/build.py SHARED_TYPOS_DIR NLPAUG_SPELLING_EN_TXT

SHARED_TYPOS_DIR holds the `correct<TAB>typo<TAB>count` files of shared/data/noise/typos;
NLPAUG_SPELLING_EN_TXT is res/word/spelling/spelling_en.txt from the nlpaug 1.1.11 wheel
(`pip download --no-deps nlpaug==1.1.11`, then unzip; lines `word typo typo ...`, each pair counted once).

Every pair is NFC-normalised and lower-cased, pairs differing only in case are dropped, and so are
pairs with a side that is not one word: whitespace, digits, symbols, control or format characters
(soft hyphen, HTML-entity debris `&shy`), doubled apostrophes (escaping debris), no letter, or a typo
that would leave a combining mark or vowel sign detached. Counts of identical pairs are added up.
"""
from __future__ import annotations

import csv
import sys
import unicodedata
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = {  # output language -> file in shared/data/noise/typos
    "de": "de_wikipedia_hroest.tsv",
    "es": "es_wikiedits_stickland.tsv",
    "fr": "fr_wikiedits_stickland.tsv",
    "hi": "hi_wikiedits_stickland.tsv",
    "vi": "vi_viwiki.tsv",
}
_JOINERS = {"\u200c", "\u200d"}  # ZWNJ/ZWJ inside Indic words are real typing variants (क्‍या)
_INNER = set("'’-.")


def is_word(w: str) -> bool:
    """One word: starts with a letter, ends with a letter or mark; inside also joiners, apostrophes, hyphens, periods."""
    if not w or "''" in w or not unicodedata.category(w[0]).startswith("L"):
        return False
    if unicodedata.category(w[-1])[0] not in "LM":  # punctuation next to a word is kept, never replaced
        return False
    return all(unicodedata.category(c)[0] in "LM" or c in _JOINERS or c in _INNER for c in w)


def clean(pairs: list[tuple[str, str, int]]) -> Counter:
    sys.path.insert(0, str(HERE.parents[2]))
    from harness.text import ill_formed

    out: Counter = Counter()
    for correct, typo, count in pairs:
        correct = unicodedata.normalize("NFC", correct.strip()).lower()
        typo = unicodedata.normalize("NFC", typo.strip()).lower()
        if correct == typo or not is_word(correct) or not is_word(typo):
            continue
        if ill_formed(typo) > ill_formed(correct):
            continue
        out[(correct, typo)] += count
    return out


def read_shared(path: Path) -> list[tuple[str, str, int]]:
    pairs = []
    with path.open(encoding="utf-8", newline="") as f:
        rows = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(rows)  # header
        for row in rows:
            if len(row) == 3 and row[2].strip().isdigit():  # vi has a few broken multi-line rows
                pairs.append((row[0], row[1], int(row[2])))
    return pairs


def read_nlpaug(path: Path) -> list[tuple[str, str, int]]:
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        correct, *typos = line.split(" ")
        pairs.extend((correct, t, 1) for t in typos if t)
    return pairs


def write(lang: str, pairs: Counter) -> Path:
    path = HERE / f"{lang}.tsv"
    lines = ["correct\ttypo\tcount"]
    lines += [f"{c}\t{t}\t{n}" for (c, t), n in sorted(pairs.items(), key=lambda kv: (kv[0][0], -kv[1], kv[0][1]))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def main(shared_dir: str, spelling_en: str) -> None:
    for lang, name in SHARED.items():
        print(write(lang, clean(read_shared(Path(shared_dir) / name))))
    print(write("en", clean(read_nlpaug(Path(spelling_en)))))


if __name__ == "__main__":
    main(*sys.argv[1:3])
