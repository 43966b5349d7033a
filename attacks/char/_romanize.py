"""Romanization of one run of same-script characters, as people type it on a Latin keyboard.

- Indic scripts (Devanagari, Bengali, Gurmukhi, Gujarati, Oriya, Tamil, Telugu, Kannada, Malayalam):
  each script is first mapped to Devanagari by Unicode character name (the blocks are parallel; chillus,
  khanda ta, tippi, addak … have rules), then transliterated with `indic_transliteration` (ISO 15919,
  ITRANS or Harvard-Kyoto). The default "casual" scheme is ISO 15919 without diacritics plus chat
  conventions: ś/ṣ -> sh, c -> ch, ch -> chh, r̥ -> ri, ḻ -> zh, anusvara -> n (m before p/b/m; m in
  Dravidian scripts), dental t -> th in Tamil and Malayalam, and the final inherent vowel dropped in
  Devanagari, Bengali, Gujarati and Gurmukhi words ('किताब' -> 'kitab').
- Arabic script: Arabizi letters (ع 3, ح 7, ء 2 for Arabic; letters only for Persian, Urdu, …) with
  harakat as vowels, و/ي as w/y or u/i by position.
- Hebrew: letters with niqqud as vowels; ש is sh (s with a sin dot), וֹ o, וּ u.
- Thai: leading vowels moved after their consonant, then letter by letter (`anyascii`).
- Hiragana/Katakana: Hepburn-like kana by kana (`anyascii`) with small ya/yu/yo, small vowels, sokuon
  and the long-vowel mark handled.
- Han: toneless Mandarin pinyin (`anyascii`), only for Chinese (`lang` zh); Japanese kanji readings
  need a dictionary, so Han in any other language is not romanized.
- Hangul: Revised Romanization by Unicode arithmetic, a final consonant carried over to a following vowel.
- Cyrillic, Greek, Georgian, Armenian: `anyascii` (case kept).
Every romanized run is ASCII without whitespace: no letter or combining mark of the source script survives.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import regex
from anyascii import anyascii

INDIC_NAMES: dict[str, str] = {
    "Deva": "DEVANAGARI", "Beng": "BENGALI", "Guru": "GURMUKHI", "Gujr": "GUJARATI", "Orya": "ORIYA",
    "Taml": "TAMIL", "Telu": "TELUGU", "Knda": "KANNADA", "Mlym": "MALAYALAM",
}
SCHWA_DELETING = frozenset({"Deva", "Beng", "Gujr", "Guru"})
DRAVIDIAN = frozenset({"Taml", "Telu", "Knda", "Mlym"})
ANYASCII_SCRIPTS = frozenset({"Cyrl", "Grek", "Geor", "Armn"})
KANA = frozenset({"Hira", "Kana"})
SCRIPTS = frozenset(INDIC_NAMES) | ANYASCII_SCRIPTS | KANA | {"Arab", "Hebr", "Thai", "Hani", "Hang"}
SCHEMES = ("casual", "itrans", "hk")
_SANSCRIPT = {"casual": "iso", "itrans": "itrans", "hk": "hk"}
CHINESE = frozenset({"zh", "cmn"})

_CONSONANT = regex.compile(r"\p{InSC=Consonant}")
_JOINERS = "\u200c\u200d"


def lang_base(lang: str) -> str:
    return lang.strip().lower().replace("-", "_").split("_", 1)[0]


def _lookup(name: str) -> str | None:
    try:
        return unicodedata.lookup(name)
    except KeyError:
        return None


# --- Indic ---------------------------------------------------------------------------------------

_INDIC_SPECIAL: dict[str, str] = {
    "\u0A70": "\u0902", "\u0A02": "\u0902", "\u0A01": "\u0901",  # Gurmukhi tippi, bindi, adak bindi
    "\u0A75": "\u094D\u092F",  # Gurmukhi yakash: subjoined ya
    "\u0A5C": "\u0921\u093C",  # Gurmukhi rra is the flap ड़, not Dravidian ऱ
    "\u09CE": "\u0924\u094D",  # Bengali khanda ta
    "\u09F0": "\u0930", "\u09F1": "\u0935",  # Assamese ra, wa
    "\u0B71": "\u0935",  # Oriya wa
    "\u0B83": "\u0903",  # Tamil aytham
    "\u0D4E": "\u0930\u094D",  # Malayalam dot reph
    "\u0D3B": "\u094D", "\u0D3C": "\u094D",  # Malayalam vertical bar / circular virama
}
_CHILLU_BASE = {"RR": "RA"}  # the chillu named RR is the dead form of RA
_GURMUKHI_CARRIERS = {  # iri/ura + vowel sign = independent vowel
    ("\u0A72", "\u0A3F"): "\u0907", ("\u0A72", "\u0A40"): "\u0908", ("\u0A72", "\u0A47"): "\u090F",
    ("\u0A73", "\u0A41"): "\u0909", ("\u0A73", "\u0A42"): "\u090A", ("\u0A73", "\u0A4B"): "\u0913",
    ("\u0A05", "\u0A48"): "\u0910", ("\u0A05", "\u0A4C"): "\u0914",
}


@lru_cache(maxsize=4096)
def _to_deva_char(ch: str, script: str) -> str:
    if script == "Deva":
        return ch
    if ch in _INDIC_SPECIAL:
        return _INDIC_SPECIAL[ch]
    name = unicodedata.name(ch, "")
    prefix = INDIC_NAMES[script] + " "
    if name.startswith(prefix + "LETTER CHILLU "):
        base = name[len(prefix + "LETTER CHILLU "):]
        letter = _lookup("DEVANAGARI LETTER " + _CHILLU_BASE.get(base, base))
        return letter + "\u094D" if letter else ch
    if name.startswith(prefix):
        deva = _lookup("DEVANAGARI " + name[len(prefix):])
        if deva:
            return deva
    digit = unicodedata.digit(ch, None)
    return str(digit) if digit is not None else ch


_TAMIL_STOPS = {"க": ("ग", "ग"), "ச": ("ज", "स"), "ட": ("ड", "ड"), "த": ("द", "द"), "ப": ("ब", "ब")}
_TAMIL_NASALS = frozenset("ஙஞணநமன")
_TAMIL_PULLI = "\u0BCD"


def _tamil_voicing(run: str, i: int) -> str | None:
    """Tamil writes k, c, ṭ, t, p for voiced sounds too: after a nasal they are g, j, ḍ, d, b, and between
    vowels g, s, ḍ, d, b ('தங்கம்' thangam, 'உலகம்' ulagam). Returns the Devanagari letter, or None."""
    ch = run[i]
    if ch not in _TAMIL_STOPS or i == 0:
        return None
    prev = run[i - 1]
    if prev == _TAMIL_PULLI:
        return _TAMIL_STOPS[ch][0] if i >= 2 and run[i - 2] in _TAMIL_NASALS else None
    if unicodedata.category(prev)[0] in "LM":  # a vowel sign, or a consonant with its inherent vowel
        return _TAMIL_STOPS[ch][1]
    return None


def to_devanagari(run: str, script: str, voicing: bool = False) -> str:
    """Map a run of an Indic script to Devanagari, character by character.

    >>> to_devanagari("தமிழ்", "Taml"), to_devanagari("ਸੱਚ", "Guru")
    ('तमिऴ्', 'सच्च')
    """
    out: list[str] = []
    i, n = 0, len(run)
    while i < n:
        ch = run[i]
        nxt = run[i + 1] if i + 1 < n else ""
        if script == "Guru" and (ch, nxt) in _GURMUKHI_CARRIERS:
            out.append(_GURMUKHI_CARRIERS[(ch, nxt)])
            i += 2
            continue
        if script == "Guru" and ch == "\u0A71" and nxt and _CONSONANT.match(nxt):  # addak doubles the next consonant
            c = _to_deva_char(nxt, script)
            out.append(c + "\u094D")
            i += 1
            continue
        if voicing and script == "Taml" and (voiced := _tamil_voicing(run, i)):
            out.append(voiced)
        elif script == "Guru" and ch in "\u0A72\u0A73":  # bare carriers
            out.append("\u0907" if ch == "\u0A72" else "\u0909")
        else:
            out.append(_to_deva_char(ch, script))
        i += 1
    return "".join(out)


_ISO_CASUAL = (
    ("r̥̄", "ri"), ("r̥", "ri"), ("l̥̄", "li"), ("l̥", "li"), ("m̐", "ṁ"),
    ("ś", "sh"), ("ṣ", "sh"), ("ḻ", "zh"), ("k͟h", "kh"), ("'", ""),
)


def _iso_to_casual(iso: str, script: str) -> str:
    s = iso
    for a, b in _ISO_CASUAL:
        s = s.replace(a, b)
    s = s.replace("jñ", "gn" if script in DRAVIDIAN else "gy")
    s = re.sub(r"ch|c", lambda m: "chh" if m.group() == "ch" else "ch", s)
    if script in ("Taml", "Mlym"):  # dental t is written th there ('thamizh'); retroflex ṭ stays t
        s = re.sub(r"t(?!h)", "th", s)
    if script == "Mlym":  # ന്റ and റ്റ are read nt and tt, ണ്ട nd
        s = s.replace("nṟ", "nt").replace("ṟṟ", "tt").replace("ṇṭ", "nd")
    # anusvara: m before a labial, n before another consonant; at the end m in Dravidian, n elsewhere
    s = re.sub(r"ṁ(?=[pbm])", "m", s)
    s = re.sub(r"ṁ(?=[^aāiīuūeēoō])", "n", s)
    s = s.replace("ṁ", "m" if script in DRAVIDIAN else "n")
    s = "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.category(c).startswith("M"))
    return s.lower()


def _ends_in_inherent_vowel(run: str) -> bool:
    """The run ends with a bare consonant (maybe with nukta) and has more than one letter cluster."""
    core = run.rstrip(_JOINERS)
    if core and unicodedata.name(core[-1], "").endswith("SIGN NUKTA"):
        core = core[:-1]
    if not core or not _CONSONANT.match(core[-1]):
        return False
    before = core[-2:-1]
    if before and unicodedata.name(before, "").endswith("SIGN VIRAMA"):  # a final conjunct keeps it: 'मित्र' mitra
        return False
    if before and core[-1] in "यয" and unicodedata.name(before, "").endswith(("SIGN I", "SIGN II")):
        return False  # 'प्रिय' priya
    return sum(1 for c in run if unicodedata.category(c).startswith("L")) > 1


def romanize_indic(run: str, script: str, scheme: str) -> str:
    """One run of an Indic script in the scheme.

    >>> romanize_indic("नमस्ते", "Deva", "casual"), romanize_indic("किताब", "Deva", "casual")
    ('namaste', 'kitab')
    >>> romanize_indic("किताब", "Deva", "itrans"), romanize_indic("தமிழ்", "Taml", "casual")
    ('kitAba', 'thamizh')
    """
    from indic_transliteration import sanscript  # imported lazily: loading its schemes takes a while

    deva = to_devanagari(run, script, voicing=scheme == "casual")
    out = sanscript.transliterate(deva, sanscript.DEVANAGARI, _SANSCRIPT[scheme])
    if scheme == "casual":
        out = _iso_to_casual(out, script)
        if script == "Mlym" and run.endswith("\u0D4D") and len(run) > 2:  # a final virama is read u: 'enikku'
            out += "u"
        if script in SCHWA_DELETING and out.endswith("a") and _ends_in_inherent_vowel(run):
            out = out[:-1]
    return out


# --- Arabic script -------------------------------------------------------------------------------

_ARABIC_LETTERS = {
    "ا": "a", "أ": "a", "إ": "i", "آ": "a", "ٱ": "a", "ب": "b", "ت": "t", "ث": "th", "ج": "j", "خ": "kh",
    "د": "d", "ذ": "dh", "ر": "r", "ز": "z", "س": "s", "ش": "sh", "ص": "s", "ض": "d", "ط": "t", "ظ": "z",
    "غ": "gh", "ف": "f", "ق": "q", "ك": "k", "ل": "l", "م": "m", "ن": "n", "ه": "h", "ة": "a", "ى": "a",
    "پ": "p", "چ": "ch", "ژ": "zh", "ڤ": "v", "گ": "g", "ک": "k", "ہ": "h", "ھ": "h", "ۃ": "a", "ۀ": "e",
    "ے": "e", "ۓ": "e", "ں": "n", "ٹ": "t", "ڈ": "d", "ڑ": "r", "ـ": "",
}
_ARABIZI_DIGITS = {"ع": "3", "ح": "7", "ء": "2", "ؤ": "2", "ئ": "2"}
_ARABIZI_LETTERS = {"ع": "'", "ح": "h", "ء": "'", "ؤ": "'", "ئ": "'"}
_HARAKAT = {"\u064E": "a", "\u064F": "u", "\u0650": "i", "\u064B": "an", "\u064C": "un", "\u064D": "in",
            "\u0652": "", "\u0670": "a", "\u0654": "", "\u0655": "", "\u0653": ""}
_SHADDA = "\u0651"
_VOWEL_LETTERS = frozenset("اويیىةأإآ")
ARABIZI_LANGS = frozenset({"ar", "arz", "apc", "ajp", "acm", "ary", "aeb", "und"})


def _first_letter_after_article(run: str, i: int) -> bool:
    """The shadda at `i` sits on the first letter after a word-initial article ال."""
    letters = [k for k in range(i) if run[k] not in _HARAKAT and run[k] != _SHADDA]
    return len(letters) == 3 and run.startswith("ال")


def romanize_arabic(run: str, lang: str) -> str:
    """Arabizi for Arabic ('مرحبا' -> 'mr7ba'), letters only for other languages; harakat are read as
    vowels, a shadda doubles its consonant, and case endings and vowels spelt twice are written once.

    >>> romanize_arabic("مرحبا", "ar"), romanize_arabic("اللُّغَةُ", "ar"), romanize_arabic("العَرَبِيَّةُ", "ar")
    ('mr7ba', 'allugha', 'al3arabiyya')
    >>> romanize_arabic("جَمِيلَةٌ", "ar"), romanize_arabic("سالگیرہ", "ur")
    ('jamila', 'salgirh')
    """
    extra = _ARABIZI_DIGITS if lang_base(lang) in ARABIZI_LANGS else _ARABIZI_LETTERS
    glide = {"و": ("w", "u" if extra is _ARABIZI_DIGITS else "o"), "ي": ("y", "i"), "ی": ("y", "i")}
    long_of = {"\u064E": "اى", "\u064F": "و", "\u0650": "يی"}
    last_letter = max((i for i, ch in enumerate(run) if ch not in _HARAKAT and ch != _SHADDA), default=-1)
    out: list[str] = []
    consonant_at = -1  # index in `out` of the last consonant, which a shadda doubles
    n = len(run)
    for i, ch in enumerate(run):
        nxt = run[i + 1] if i + 1 < n else ""
        if ch in _HARAKAT:
            spelt = nxt in long_of.get(ch, "") and (i + 2 >= n or run[i + 2] not in _HARAKAT and run[i + 2] != _SHADDA)
            out.append("" if i > last_letter or spelt else _HARAKAT[ch])
        elif ch == _SHADDA:  # not on the sun letter after the article: 'الشَّمس' alshams, not alshshams
            if consonant_at >= 0 and not _first_letter_after_article(run, i):
                out.insert(consonant_at + 1, out[consonant_at])
        elif ch in glide:
            consonantal = i == 0 or nxt in _VOWEL_LETTERS or nxt in _HARAKAT or nxt == _SHADDA
            out.append(glide[ch][0] if consonantal else glide[ch][1])
            consonant_at = len(out) - 1 if consonantal else -1
        elif ch in "ةۃ":
            out.append("" if out and out[-1].endswith("a") else "a")
        elif ch in extra or ch in _ARABIC_LETTERS:
            out.append(extra.get(ch, _ARABIC_LETTERS.get(ch, "")))
            consonant_at = len(out) - 1 if ch not in _VOWEL_LETTERS else -1
        else:
            out.append(anyascii(ch))
            consonant_at = len(out) - 1
    return "".join(out).lower()


# --- Hebrew --------------------------------------------------------------------------------------

_SHIN_DOT, _SIN_DOT, _DAGESH, _HOLAM, _HOLAM_VAV = "\u05C1", "\u05C2", "\u05BC", "\u05B9", "\u05BA"
_HARD = {"ב": "b", "כ": "k", "ך": "k", "פ": "p", "ף": "p"}  # with dagesh, or word-initial


def romanize_hebrew(run: str) -> str:
    """Hebrew letter by letter, vowels from niqqud.

    >>> romanize_hebrew("שָׁלוֹם"), romanize_hebrew("שלום")
    ('shalom', 'shlom')
    """
    clusters = regex.findall(r"\X", run)
    out: list[str] = []
    for k, g in enumerate(clusters):
        base, marks = g[0], g[1:]
        nxt = clusters[k + 1][0] if k + 1 < len(clusters) else ""
        vowels = "".join(anyascii(m) for m in marks if m not in (_SHIN_DOT, _SIN_DOT, _DAGESH, _HOLAM, _HOLAM_VAV))
        if base == "ש":
            out.append(("s" if _SIN_DOT in marks else "sh") + vowels)
        elif base == "ו":
            if _HOLAM in marks or _HOLAM_VAV in marks:
                out.append("o")
            elif _DAGESH in marks and not vowels:
                out.append("u")
            elif vowels or k == 0:
                out.append("v" + vowels)
            else:
                out.append("o")
        elif base == "י":
            out.append("y" + vowels if (vowels or k == 0) else "i")
        elif base in "אע":
            out.append(vowels if vowels or k > 0 else ("" if nxt in "וי" else "a"))
        elif base in _HARD and (_DAGESH in marks or k == 0):
            out.append(_HARD[base] + vowels)
        else:
            out.append(anyascii(base) + vowels)
    return "".join(out).lower()


# --- Thai, kana, the rest ------------------------------------------------------------------------

_THAI_LEADING = regex.compile(r"\p{Logical_Order_Exception}")
_THAI_VOWEL = regex.compile(r"[\p{InSC=Vowel_Dependent}\u0E31\u0E47]")
_THAI_TONE = regex.compile(r"[\u0E48-\u0E4C]")


def romanize_thai(run: str) -> str:
    """Thai letter by letter (`anyascii`), a leading vowel read after its consonant, อ silent before a
    vowel, ัว read ua.

    >>> romanize_thai("ภาษาไทย"), romanize_thai("เป็น"), romanize_thai("อีก"), romanize_thai("ชั่วโมง")
    ('phasathaiy', 'pen', 'ik', 'chuamong')
    """
    chars = list(run)
    i = 0
    while i < len(chars) - 1:
        if _THAI_LEADING.match(chars[i]) and not _THAI_LEADING.match(chars[i + 1]):
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
            i += 2
        else:
            i += 1
    out: list[str] = []
    skip = -1
    for k, ch in enumerate(chars):
        if k == skip:
            continue
        j = next((m for m in range(k + 1, len(chars)) if not _THAI_TONE.match(chars[m])), -1)
        nxt = chars[j] if j >= 0 else ""
        if ch == "อ" and nxt and (_THAI_VOWEL.match(nxt) or _THAI_LEADING.match(nxt)):
            continue
        if ch == "ั" and nxt == "ว":
            out.append("ua")
            skip = j
            continue
        out.append(anyascii(ch))
    return "".join(out).lower()


_SMALL_Y = {c: v for cs, v in (("ゃャ", "a"), ("ゅュ", "u"), ("ょョ", "o")) for c in cs}
_SMALL_VOWEL = {c: v for cs, v in (("ぁァ", "a"), ("ぃィ", "i"), ("ぅゥ", "u"), ("ぇェ", "e"), ("ぉォ", "o")) for c in cs}
_SOKUON = "っッ"
_LONG = "ー"
_REPEAT = "ゝゞヽヾ"


def romanize_kana(run: str) -> str:
    """Hepburn-like romaji, kana by kana.

    >>> romanize_kana("きょう"), romanize_kana("がっこう"), romanize_kana("スーパー"), romanize_kana("ファイル")
    ('kyou', 'gakkou', 'suupaa', 'fairu')
    """
    sylls: list[str] = []
    geminate = False
    for ch in run:
        if ch in _SOKUON:
            geminate = True
            continue
        if ch in _SMALL_Y and sylls and sylls[-1].endswith("i") and len(sylls[-1]) > 1:
            stem = sylls[-1][:-1]
            sylls[-1] = stem + ("" if stem in ("sh", "ch", "j") else "y") + _SMALL_Y[ch]
            continue
        if ch in _SMALL_VOWEL and sylls and len(sylls[-1]) > 1 and sylls[-1][-1] in "aiueo":
            sylls[-1] = sylls[-1][:-1] + _SMALL_VOWEL[ch]
            continue
        if ch == _LONG:
            vowel = next((c for c in reversed("".join(sylls)) if c in "aiueo"), "")
            syl = vowel
        elif ch in _REPEAT:
            syl = sylls[-1] if sylls else ""
        else:
            syl = anyascii(ch)
        if geminate and syl:
            syl = ("t" + syl) if syl.startswith("ch") else (syl[0] + syl if syl[0] not in "aiueo" else syl)
            geminate = False
        sylls.append(syl)
    if geminate:
        sylls.append("t")
    return "".join(sylls).lower()


_HANGUL_LEAD = "g kk n d tt r m b pp s ss _ j jj ch k t p h".split()
_HANGUL_VOWEL = "a ae ya yae eo e yeo ye o wa wae oe yo u wo we wi yu eu ui i".split()
_HANGUL_TAIL = "_ k k k n n n t l k m l l l p l m p p t t ng t t k t p t".split()
_HANGUL_LIAISON = "_ g kk gs n nj n d r lg lm lb ls lt lp r m b bs s ss ng j ch k t p _".split()


def romanize_hangul(run: str) -> str:
    """Revised Romanization syllable by syllable, with a final consonant carried over to a following
    vowel (no other sound change).

    >>> romanize_hangul("한국어"), romanize_hangul("갔다"), romanize_hangul("겨울에"), romanize_hangul("몰라")
    ('hangugeo', 'gatda', 'gyeoure', 'molla')
    """
    out: list[str] = []
    carry = ""
    for k, ch in enumerate(run):
        cp = ord(ch) - 0xAC00
        if not 0 <= cp < 11172:
            out.append(carry + anyascii(ch))
            carry = ""
            continue
        lead, vowel, tail = cp // 588, (cp // 28) % 21, cp % 28
        nxt = ord(run[k + 1]) - 0xAC00 if k + 1 < len(run) else -1
        nxt_lead = nxt // 588 if 0 <= nxt < 11172 else -1
        initial = carry or _HANGUL_LEAD[lead]
        if not carry and lead == 5 and out and out[-1].endswith("l"):  # ㄹㄹ is ll
            initial = "l"
        carry = ""
        final = _HANGUL_TAIL[tail]
        if tail and tail != 21 and nxt_lead == 11:  # final before a silent ㅇ moves over: 한국어 hangugeo
            carry, final = _HANGUL_LIAISON[tail], ""
        out.append((initial + _HANGUL_VOWEL[vowel] + final).replace("_", ""))
    return "".join(out) + carry.replace("_", "")


def romanize_run(run: str, script: str, lang: str, scheme: str) -> str | None:
    """ASCII romanization of `run` (characters of one script), or None where it is not romanized here."""
    if script in INDIC_NAMES:
        out = romanize_indic(run, script, scheme)
    elif script == "Arab":
        out = romanize_arabic(run, lang)
    elif script == "Hebr":
        out = romanize_hebrew(run)
    elif script == "Thai":
        out = romanize_thai(run)
    elif script in KANA:
        out = romanize_kana(run)
    elif script == "Hani":
        if lang_base(lang) not in CHINESE:
            return None
        out = anyascii(run).lower()
    elif script == "Hang":
        out = romanize_hangul(run)
    elif script in ANYASCII_SCRIPTS:
        out = anyascii(run)
    else:
        return None
    if not out.isascii():  # a character the scheme does not know: letter by letter
        out = anyascii(out)
    out = "".join(out.split())
    return out or None
