"""Language and country codes from what people write instead: names, aliases, other codes.

"Did you mean" for a language or a country only ever offers a real code, found by what
the cell means (`French` → fr, `UK` → gb), never by spelling alone (`French` is not
close to any code worth offering). Names come from pycountry; the tables below add the
names people and exporters write that pycountry does not hold. Pure.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from functools import cache

import pycountry

# Names of languages in themselves, in French, German and Spanish, and common aliases.
LANGUAGE_ALIASES: dict[str, str] = {
    "english": "en", "anglais": "en", "englisch": "en", "ingles": "en", "inglese": "en",
    "francais": "fr", "franzosisch": "fr", "frances": "fr", "francese": "fr",
    "deutsch": "de", "allemand": "de", "aleman": "de", "tedesco": "de",
    "espanol": "es", "castellano": "es", "espagnol": "es", "spanisch": "es",
    "italiano": "it", "italien": "it", "italienisch": "it",
    "portugues": "pt", "portugais": "pt", "brazilian portuguese": "pt",
    "nederlands": "nl", "dutch": "nl", "flemish": "nl", "vlaams": "nl",
    "greek": "el", "swahili": "sw", "kiswahili": "sw", "persian": "fa", "farsi": "fa",
    "malay": "ms", "bahasa melayu": "ms", "bahasa indonesia": "id", "nepali": "ne",
    "norwegian": "no", "norsk": "no", "svenska": "sv", "dansk": "da", "suomi": "fi",
    "polski": "pl", "cestina": "cs", "magyar": "hu", "turkce": "tr", "romana": "ro",
    "russkiy": "ru", "русский": "ru", "українська": "uk", "日本語": "ja", "中文": "zh",
    "mandarin": "zh", "cantonese": "yue", "한국어": "ko", "العربية": "ar", "עברית": "he",
    "हिन्दी": "hi", "ไทย": "th", "tieng viet": "vi", "filipino": "fil", "tagalog": "tl",
}
# Countries as people write them (pycountry has "United Kingdom", not "UK").
COUNTRY_ALIASES: dict[str, str] = {
    "uk": "gb", "u.k.": "gb", "england": "gb", "scotland": "gb", "wales": "gb",
    "northern ireland": "gb", "great britain": "gb", "britain": "gb",
    "royaume-uni": "gb", "grossbritannien": "gb", "reino unido": "gb",
    "usa": "us", "u.s.": "us", "u.s.a.": "us", "us of a": "us", "america": "us",
    "united states": "us", "etats-unis": "us", "vereinigte staaten": "us",
    "estados unidos": "us", "stati uniti": "us",
    "deutschland": "de", "allemagne": "de", "alemania": "de", "germania": "de",
    "espana": "es", "espagne": "es", "spanien": "es", "italia": "it", "italie": "it",
    "italien": "it", "brasil": "br", "bresil": "br", "mexique": "mx", "mexiko": "mx",
    "holland": "nl", "the netherlands": "nl", "nederland": "nl", "pays-bas": "nl",
    "schweiz": "ch", "suisse": "ch", "svizzera": "ch", "osterreich": "at",
    "autriche": "at", "belgique": "be", "belgie": "be", "belgien": "be",
    "japon": "jp", "日本": "jp", "chine": "cn", "中国": "cn", "russia": "ru", "russie": "ru",
    "south korea": "kr", "korea": "kr", "coree du sud": "kr", "north korea": "kp",
    "turkey": "tr", "turquie": "tr", "turkei": "tr", "czech republic": "cz",
    "ivory coast": "ci", "cote d'ivoire": "ci", "uae": "ae", "emirates": "ae",
    "macedonia": "mk", "burma": "mm", "vatican": "va", "syria": "sy", "laos": "la",
    "moldova": "md", "tanzania": "tz", "venezuela": "ve", "bolivia": "bo",
    "palestine": "ps", "maroc": "ma", "algerie": "dz", "tunisie": "tn",
    "grece": "gr", "irlande": "ie", "ecosse": "gb", "angleterre": "gb", "suede": "se",
    "norvege": "no", "danemark": "dk", "pologne": "pl", "polska": "pl",
}


def _key(text: str) -> str:
    """Case, accents, a parenthesised remark and spare spaces do not count."""
    text = re.sub(r"\s*\([^)]*\)", "", text)
    folded = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in folded if not unicodedata.combining(c))
    # Scripts without accents (日本語, русский) keep their letters recomposed.
    return unicodedata.normalize("NFC", " ".join(stripped.split()))


def _index(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Name → code, leaving out a name two codes share (`korea`)."""
    found: dict[str, set[str]] = {}
    for name, code in pairs:
        found.setdefault(_key(name), set()).add(code)
    return {name: codes.pop() for name, codes in found.items() if len(codes) == 1}


@cache
def _language_names() -> dict[str, str]:
    pairs: list[tuple[str, str]] = []
    for lang in pycountry.languages:
        code = getattr(lang, "alpha_2", None) or lang.alpha_3
        for attr in ("name", "common_name", "inverted_name", "bibliographic"):
            if (value := getattr(lang, attr, None)) is not None:
                pairs.append((value, code))
        pairs.append((lang.alpha_3, code))
    names = _index(pairs)
    names.update({_key(k): v for k, v in LANGUAGE_ALIASES.items()})
    return names


@cache
def _country_names() -> dict[str, str]:
    pairs: list[tuple[str, str]] = []
    for country in pycountry.countries:
        code = country.alpha_2.lower()
        for attr in ("name", "official_name", "common_name", "alpha_3"):
            if (value := getattr(country, attr, None)) is not None:
                pairs.append((value, code))
                if ", " in value:  # "Iran, Islamic Republic of" is also "Iran"
                    pairs.append((value.split(", ")[0], code))
    names = _index(pairs)
    names.update({_key(k): v for k, v in COUNTRY_ALIASES.items()})
    return names


def _lookup(word: str, names: dict[str, str], codes: frozenset[str]) -> str | None:
    key = _key(word)
    if key in names:
        return names[key]
    # en-US, fr_CA, pt-BR: a locale tag, whose first part is the language.
    if (tag := re.fullmatch(r"([a-z]{2,3})[-_]([a-z]{2}|\d{3}|[a-z]{4})", key)) is not None:
        return tag.group(1) if tag.group(1) in codes else None
    # A misspelt name ("Frnech"), matched against names only, never against codes.
    spelt = [n for n in names if len(n) > 3]
    close = difflib.get_close_matches(key, spelt, n=1, cutoff=0.8) if len(key) > 3 else []
    return names[close[0]] if close else None


def language_hint(word: str, codes: frozenset[str]) -> str | None:
    """The language code `word` stands for (`French` → fr, `fre` → fr), or None."""
    code = _lookup(word, _language_names(), codes)
    return code if code in codes and code != word.lower() else None


def country_hint(word: str, codes: frozenset[str]) -> str | None:
    """The country code `word` stands for (`UK` → gb, `USA` → us), or None."""
    key = _key(word)
    tag = re.fullmatch(r"[a-z]{2,3}[-_]([a-z]{2})", key)
    code = tag.group(1) if tag else _lookup(word, _country_names(), codes)
    return code if code in codes and code != word.lower() else None


def language_name(code: str) -> str:
    lang = pycountry.languages.get(alpha_2=code) or pycountry.languages.get(alpha_3=code)
    return re.sub(r"\s*\([^)]*\)", "", lang.name) if lang is not None else code


def country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    return getattr(country, "common_name", None) or country.name if country else code
