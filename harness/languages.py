"""Language metadata: the 50 XTREME-R languages and 5 code-mixed pairs (name, script, family, genus, tier).

`LANGUAGES` holds 55 entries: the 50 XTREME-R languages and the code-mixed pairs of the shared
data (/work/shared/data/code_mixed): `hi-en`, `es-en`, `ta-en`, `ml-en`, `kn-en`. Kannada is not
an XTREME-R language; it is only the matrix language of `kn-en`, so its row lives in
`EXTRA_LANGUAGES` and is not in `LANGUAGES` (`language_or_unknown("kn")` still finds it).

Sources of the fields:

* `name`: English name. It equals langcodes' `Language.get(code).display_name()` (CLDR) except
  where `LANGCODES_NAME_DIFFERENCES` says otherwise: `bn` is "Bengali" (CLDR: "Bangla") and `tl`
  is "Tagalog" (langcodes normalises `tl` to `fil`, "Filipino"), the names XTREME-R and its
  source datasets use.
* `script`: ISO 15924 code of the script the data is written in, spelled as
  `harness.text.char_script` and the perturbations' `scripts` spell it. It equals langcodes'
  `Language.get(code).maximize().script` (CLDR likely subtags) except where
  `LANGCODES_SCRIPT_DIFFERENCES` says otherwise: `ko` is "Hang" (CLDR "Kore", Hangul + Han) and
  `zh` is "Hani" (CLDR "Hans"); char_script has no "Kore" or "Hans" and returns "Hang" for Hangul
  and "Hani" for every Han character. `ja` is "Jpan" (Han + kana, as CLDR), a composite
  char_script never returns. Code-mixed pairs are "Latn": the shared data is mostly romanised
  (a few Tamil/Malayalam/Kannada comments are in the native script).
* `family`, `genus`: WALS (Dryer & Haspelmath 2013) genera / Glottolog top-level families. A pair
  takes them from its matrix language.
* `tier`: the resource class 0-5 of Joshi, Santy, Budhiraja, Bali & Choudhury 2020, "The State and
  Fate of Linguistic Diversity and Inclusion in the NLP World" (ACL 2020), from the paper's
  language-to-class table (lang2tax.txt, https://microsoft.github.io/linguisticdiversity/):
  5 "winners" ... 0 "left-behinds". zh uses the table's "Mandarin", pa "Eastern Punjabi";
  the table lists "Haitian" (2) and "Haitian Creole" (0): ht uses "Haitian", 2. The paper does not
  classify code-mixed varieties, so a pair takes the tier of its matrix language.
* `matrix`, `embedded`: for a code-mixed pair, the codes of its matrix (grammatical frame) and
  embedded (inserted) languages; None for monolingual languages.
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import ConfigError
from .registry import Registry


@dataclass(frozen=True)
class Language:
    """One language's metadata (`code` is the ISO 639-1 code XTREME-R uses, or `matrix-embedded`).

    `tier` is the Joshi et al. 2020 class (0-5); None only on `language_or_unknown` placeholders.
    """

    code: str
    name: str
    script: str
    family: str
    genus: str
    tier: int | None
    matrix: str | None = None
    embedded: str | None = None

    @property
    def code_mixed(self) -> bool:
        """True for a code-mixed pair such as `hi-en`."""
        return self.matrix is not None


LANGUAGES: Registry[Language] = Registry("language")

# code name script family genus tier (underscores stand for spaces)
_TABLE = """\
af Afrikaans Latn Indo-European Germanic 3
ar Arabic Arab Afro-Asiatic Semitic 5
az Azerbaijani Latn Turkic Turkic 1
bg Bulgarian Cyrl Indo-European Slavic 3
bn Bengali Beng Indo-European Indic 3
de German Latn Indo-European Germanic 5
el Greek Grek Indo-European Greek 3
en English Latn Indo-European Germanic 5
es Spanish Latn Indo-European Romance 5
et Estonian Latn Uralic Finnic 3
eu Basque Latn Basque Basque 4
fa Persian Arab Indo-European Iranian 4
fi Finnish Latn Uralic Finnic 4
fr French Latn Indo-European Romance 5
gu Gujarati Gujr Indo-European Indic 1
he Hebrew Hebr Afro-Asiatic Semitic 3
hi Hindi Deva Indo-European Indic 4
ht Haitian_Creole Latn Creole Creole 2
hu Hungarian Latn Uralic Ugric 4
id Indonesian Latn Austronesian Malayo-Sumbawan 3
it Italian Latn Indo-European Romance 4
ja Japanese Jpan Japonic Japanese 5
jv Javanese Latn Austronesian Javanese 1
ka Georgian Geor Kartvelian Kartvelian 3
kk Kazakh Cyrl Turkic Turkic 3
ko Korean Hang Koreanic Korean 4
lt Lithuanian Latn Indo-European Baltic 3
ml Malayalam Mlym Dravidian Southern_Dravidian 1
mr Marathi Deva Indo-European Indic 2
ms Malay Latn Austronesian Malayo-Sumbawan 3
my Burmese Mymr Sino-Tibetan Burmese-Lolo 1
nl Dutch Latn Indo-European Germanic 4
pa Punjabi Guru Indo-European Indic 2
pl Polish Latn Indo-European Slavic 4
pt Portuguese Latn Indo-European Romance 4
qu Quechua Latn Quechuan Quechuan 1
ro Romanian Latn Indo-European Romance 3
ru Russian Cyrl Indo-European Slavic 4
sw Swahili Latn Niger-Congo Bantoid 2
ta Tamil Taml Dravidian Southern_Dravidian 3
te Telugu Telu Dravidian South-Central_Dravidian 1
th Thai Thai Tai-Kadai Kam-Tai 3
tl Tagalog Latn Austronesian Greater_Central_Philippine 3
tr Turkish Latn Turkic Turkic 4
uk Ukrainian Cyrl Indo-European Slavic 3
ur Urdu Arab Indo-European Indic 3
vi Vietnamese Latn Austro-Asiatic Viet-Muong 4
wo Wolof Latn Niger-Congo Northern_Atlantic 2
yo Yoruba Latn Niger-Congo Defoid 2
zh Chinese Hani Sino-Tibetan Chinese 5
"""

# languages needed only as the matrix of a code-mixed pair (not XTREME-R; not in LANGUAGES)
_EXTRA_TABLE = """\
kn Kannada Knda Dravidian Southern_Dravidian 1
"""

# pair matrix embedded script (the script of the shared code-mixed data)
_PAIRS = """\
hi-en hi en Latn
es-en es en Latn
ta-en ta en Latn
ml-en ml en Latn
kn-en kn en Latn
"""

# Where our name / script deliberately differ from langcodes (value: what langcodes gives).
LANGCODES_NAME_DIFFERENCES: dict[str, str] = {"bn": "Bangla", "tl": "Filipino"}
LANGCODES_SCRIPT_DIFFERENCES: dict[str, str] = {"ko": "Kore", "zh": "Hans"}


def _rows(table: str) -> list[Language]:
    out = []
    for line in table.splitlines():
        code, name, script, family, genus, tier = line.split()
        out.append(Language(code, name.replace("_", " "), script, family, genus.replace("_", " "), int(tier)))
    return out


EXTRA_LANGUAGES: dict[str, Language] = {lang.code: lang for lang in _rows(_EXTRA_TABLE)}

for _lang in _rows(_TABLE):
    LANGUAGES.register(_lang.code, _lang)

for _line in _PAIRS.splitlines():
    _code, _matrix, _embedded, _script = _line.split()
    _m = LANGUAGES.get(_matrix) if _matrix in LANGUAGES else EXTRA_LANGUAGES[_matrix]
    _e = LANGUAGES.get(_embedded)
    LANGUAGES.register(_code, Language(_code, f"{_m.name}–{_e.name} code-mixed", _script, _m.family, _m.genus,
                                       _m.tier, matrix=_matrix, embedded=_embedded))


def get_language(code: str) -> Language:
    """Metadata of `code`; unknown codes raise ConfigError with a suggestion."""
    return LANGUAGES.get(code)


def language_or_unknown(code: str) -> Language:
    """Metadata of `code` (LANGUAGES, then EXTRA_LANGUAGES), or a placeholder row for any other code."""
    if code in LANGUAGES:
        return LANGUAGES.get(code)
    if code in EXTRA_LANGUAGES:
        return EXTRA_LANGUAGES[code]
    return Language(code, code, "Zzzz", "unknown", "unknown", None)


__all__ = ["Language", "LANGUAGES", "EXTRA_LANGUAGES", "LANGCODES_NAME_DIFFERENCES", "LANGCODES_SCRIPT_DIFFERENCES",
           "get_language", "language_or_unknown", "ConfigError"]
