"""Language metadata for the 50 XTREME-R languages: name, script, family, genus.

Families and genera follow WALS (Dryer & Haspelmath 2013) / Glottolog top-level families;
scripts are ISO 15924 codes of the script the XTREME-R data is written in.
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import ConfigError
from .registry import Registry


@dataclass(frozen=True)
class Language:
    """One language's metadata (`code` is the ISO 639-1 code XTREME-R uses)."""

    code: str
    name: str
    script: str
    family: str
    genus: str


LANGUAGES: Registry[Language] = Registry("language")

_TABLE = """\
af Afrikaans Latn Indo-European Germanic
ar Arabic Arab Afro-Asiatic Semitic
az Azerbaijani Latn Turkic Turkic
bg Bulgarian Cyrl Indo-European Slavic
bn Bengali Beng Indo-European Indic
de German Latn Indo-European Germanic
el Greek Grek Indo-European Greek
en English Latn Indo-European Germanic
es Spanish Latn Indo-European Romance
et Estonian Latn Uralic Finnic
eu Basque Latn Basque Basque
fa Persian Arab Indo-European Iranian
fi Finnish Latn Uralic Finnic
fr French Latn Indo-European Romance
gu Gujarati Gujr Indo-European Indic
he Hebrew Hebr Afro-Asiatic Semitic
hi Hindi Deva Indo-European Indic
ht Haitian_Creole Latn Creole Creole
hu Hungarian Latn Uralic Ugric
id Indonesian Latn Austronesian Malayo-Sumbawan
it Italian Latn Indo-European Romance
ja Japanese Jpan Japonic Japanese
jv Javanese Latn Austronesian Javanese
ka Georgian Geor Kartvelian Kartvelian
kk Kazakh Cyrl Turkic Turkic
ko Korean Hang Koreanic Korean
lt Lithuanian Latn Indo-European Baltic
ml Malayalam Mlym Dravidian Southern_Dravidian
mr Marathi Deva Indo-European Indic
ms Malay Latn Austronesian Malayo-Sumbawan
my Burmese Mymr Sino-Tibetan Burmese-Lolo
nl Dutch Latn Indo-European Germanic
pa Punjabi Guru Indo-European Indic
pl Polish Latn Indo-European Slavic
pt Portuguese Latn Indo-European Romance
qu Quechua Latn Quechuan Quechuan
ro Romanian Latn Indo-European Romance
ru Russian Cyrl Indo-European Slavic
sw Swahili Latn Niger-Congo Bantoid
ta Tamil Taml Dravidian Southern_Dravidian
te Telugu Telu Dravidian South-Central_Dravidian
th Thai Thai Tai-Kadai Kam-Tai
tl Tagalog Latn Austronesian Greater_Central_Philippine
tr Turkish Latn Turkic Turkic
uk Ukrainian Cyrl Indo-European Slavic
ur Urdu Arab Indo-European Indic
vi Vietnamese Latn Austro-Asiatic Viet-Muong
wo Wolof Latn Niger-Congo Northern_Atlantic
yo Yoruba Latn Niger-Congo Defoid
zh Chinese Hani Sino-Tibetan Chinese
"""

for _line in _TABLE.splitlines():
    _code, _name, _script, _family, _genus = _line.split()
    LANGUAGES.register(_code, Language(_code, _name.replace("_", " "), _script, _family, _genus.replace("_", " ")))


def get_language(code: str) -> Language:
    """Metadata of `code`; unknown codes raise ConfigError with a suggestion."""
    return LANGUAGES.get(code)


def language_or_unknown(code: str) -> Language:
    """Metadata of `code`, or a placeholder row for a language outside the table."""
    if code in LANGUAGES:
        return LANGUAGES.get(code)
    return Language(code, code, "Zzzz", "unknown", "unknown")


__all__ = ["Language", "LANGUAGES", "get_language", "language_or_unknown", "ConfigError"]
