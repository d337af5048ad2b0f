"""Numbers written with digits, spelled out as words (with num2words), so transcripts keep them.

Read where the reading is clear: currency (``$20``: twenty dollars), percent
(``50%``), ordinals (``1st``, ``2nd-floor``), times (``3:30``), decades (``1990s``),
years (four digits from 1100 to 2099 standing alone), decimals (``3.5``: three point
five), grouped thousands (``1,000``) and plain integers (``COVID-19``). A leading zero
(``007``) is read digit by digit. A number whose reading is unclear (``1/2``, ``12/05``,
``1.2.3``) is not guessed: ``UnspellableError`` names it, so the caller reports the row.
Currency and percent words exist in English only; in other languages such a token is
reported too.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from num2words import num2words

DIGIT = re.compile(r"\d")
# English words for the symbols; other languages read the numbers but report these tokens.
CURRENCY = {"$": ("dollar", "dollars", "cent", "cents"), "£": ("pound", "pounds", "penny", "pence"),
            "€": ("euro", "euros", "cent", "cents")}  # fmt: skip
PERCENT = {"en": "percent"}


class UnspellableError(ValueError):
    """A number whose reading is ambiguous or that num2words cannot spell."""


def _words(number: int | str, language: str, to: str = "cardinal") -> str:
    return _words_of(int(number), language, to)


def _words_of(number: int | float, language: str, to: str = "cardinal") -> str:
    try:
        return num2words(number, lang=language, to=to)
    except (NotImplementedError, OverflowError) as e:
        why = str(e) or "num2words does not support that language"
        raise UnspellableError(f"cannot spell {number!r} in language {language!r} ({to}): {why}") from None


def _digits(digits: str, language: str) -> str:
    return " ".join(_words(d, language) for d in digits)


def _integer(digits: str, language: str) -> str:
    """A plain integer; one with a leading zero (``007``, ``0800``) digit by digit."""
    digits = digits.replace(",", "")
    return _digits(digits, language) if len(digits) > 1 and digits[0] == "0" else _words(digits, language)


def _decimal(whole: str, fraction: str | None, language: str) -> str:
    if not fraction:
        return _integer(whole, language)
    point = _words_of(1.5, language).split()[1] if language != "en" else "point"
    return f"{_integer(whole, language)} {point} {_digits(fraction, language)}"


def _currency(match: re.Match, language: str) -> str:
    if language != "en":
        raise UnspellableError(f"{match.group(0)!r}: currency words exist in English only")
    one, many, cent, cents = CURRENCY[match["symbol"]]
    whole = match["whole"].replace(",", "")
    text = f"{_words(whole, language)} {one if int(whole) == 1 else many}"
    if match["cents"] and int(match["cents"]):
        text += f" {_words(match['cents'], language)} {cent if int(match['cents']) == 1 else cents}"
    return f" {text} "


def _percent(match: re.Match, language: str) -> str:
    if language not in PERCENT:
        raise UnspellableError(f"{match.group(0)!r}: percent words exist in English only")
    return f" {_decimal(match['whole'], match['fraction'], language)} {PERCENT[language]} "


def _time(match: re.Match, language: str) -> str:
    hours, minutes = int(match["hours"]), int(match["minutes"])
    if language != "en":
        return f" {_words(hours, language)} {_words(minutes, language)} "
    if minutes == 0:
        return f" {_words(hours, language)} o'clock "
    spoken = _words(minutes, language) if minutes >= 10 else f"oh {_words(minutes, language)}"
    return f" {_words(hours, language)} {spoken} "


def _decade(match: re.Match, language: str) -> str:
    number = int(match["number"])
    words = _words(number, language, "year" if number >= 1000 else "cardinal")
    return f" {words[:-1]}ies " if words.endswith("y") else f" {words}s "


def _year(match: re.Match, language: str) -> str:
    return f" {_words(match.group(0), language, 'year')} "


# Applied in order; each pattern's numbers are spelled before the next pattern looks.
RULES: list[tuple[re.Pattern, Callable[[re.Match, str], str]]] = [
    (re.compile(r"\d+(?:[./⁄]\d+){2,}|\d+\s*[/⁄]\s*\d+"), None),  # dates, versions, fractions: ambiguous
    (re.compile(r"(?P<symbol>[$£€])\s?(?P<whole>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<cents>\d\d))?(?!\d)"), _currency),
    (re.compile(r"(?P<whole>\d+)(?:\.(?P<fraction>\d+))?\s?%"), _percent),
    (re.compile(r"(?P<hours>[01]?\d|2[0-3]):(?P<minutes>[0-5]\d)(?!\d)"), _time),
    (re.compile(r"(?<![\d.,])(?P<number>\d+)(?:st|nd|rd|th)\b", re.IGNORECASE),
     lambda m, lang: f" {_words(m['number'], lang, 'ordinal')} "),
    (re.compile(r"(?<![\d.,])(?P<number>1[1-9]\d0|20\d0|[1-9]0)'?s\b"), _decade),
    (re.compile(r"(?<![\d.,:])(?:1[1-9]\d\d|20\d\d)(?![\d.,:]\d)"), _year),
    (re.compile(r"(?<![\d.,])(?P<whole>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<fraction>\d+))?(?![\d,.]\d)"),
     lambda m, lang: f" {_decimal(m['whole'], m['fraction'], lang)} "),
]  # fmt: skip


def spell_numbers(text: str, language: str = "en") -> str:
    """``text`` with every number written in digits replaced by its words (surrounded by spaces).

    Raises ``UnspellableError`` naming a number whose reading is ambiguous; text without digits is returned as is.
    """
    if not DIGIT.search(text):
        return text
    for pattern, spell in RULES:
        if spell is None:
            found = pattern.search(text)
            if found:
                raise UnspellableError(f"{found.group(0)!r}: ambiguous number (a date, version or fraction)")
            continue
        text = pattern.sub(lambda m, spell=spell: spell(m, language), text)
    left = DIGIT.search(text)
    if left:
        raise UnspellableError(f"cannot spell the digits in {text[max(0, left.start() - 10) : left.end() + 10]!r}")
    return text
