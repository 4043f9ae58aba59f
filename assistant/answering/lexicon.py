"""Language knowledge, read from data: ``assistant/languages/<code>.toml`` (French, English) and ``common.toml``.

Each language file says how questions ask (the kind of answer their words call for, greetings, follow-ups) and what
answers look like (numbers, dates, places), and holds the phrases we answer with. A question in either language is
read with both files: every entry here joins the languages' patterns or words. A new language is a new file (and a
calibration); no logic module holds a word list or an alternation of words.

>>> "combien" in FUNCTION_WORDS["fr"] and "which" in FUNCTION_WORDS["en"]
True
>>> [kind for kind, _ in KINDS][:3]
['rate', 'duration', 'time']
>>> bool(ANSWER["count"].search("une quarantaine d'agents")), bool(ANSWER["count"].search("en 2016"))
(True, False)
"""

from __future__ import annotations

import re
import tomllib
from importlib import resources

from assistant.keywords import fold

LANGUAGES = ("fr", "en")  # the first is the default: a question in doubt is read as French


def _read(name: str) -> dict:
    return tomllib.loads(resources.files("assistant").joinpath(f"languages/{name}.toml").read_text("utf-8"))


_FILES = {code: _read(code) for code in LANGUAGES}
_COMMON = _read("common")


def words(key: str) -> list[str]:
    """The words (or word patterns) listed under ``[words] key`` by every language, in order, once each."""
    return list(dict.fromkeys(word for code in LANGUAGES for word in _FILES[code]["words"][key]))


# A month written short ("sept.") -> the month; the first language's reading wins ("sept" is "septembre")
MONTHS_ABBREVIATED = {
    short: month for code in reversed(LANGUAGES) for short, month in _FILES[code]["words"].get("months_abbreviated", [])
}
_SHORT = "|".join(map(re.escape, MONTHS_ABBREVIATED))


def _fill(pattern: str) -> str:
    pattern = pattern.replace("{number_words}", "|".join(words("number_words")))
    pattern = pattern.replace("{months_abbreviated}", _SHORT)
    return pattern.replace("{months}", "|".join(words("months")))


def either(section: str, key: str, common: bool = False) -> str:
    """The languages' patterns for ``[section] key`` (and common.toml's, if asked), as one alternation."""
    found = [_FILES[code][section].get(key, "") for code in LANGUAGES]
    if common:
        found.append(_COMMON.get(section, {}).get(key, ""))
    return "|".join(_fill(pattern) for pattern in found if pattern)


def _listed(key: str) -> str:
    """The patterns listed under ``[question] key`` by every language, as one alternation."""
    return "|".join(pattern for code in LANGUAGES for pattern in _FILES[code]["question"][key])


def _alternation(key: str) -> str:
    return "|".join(words(key))


def _kinds() -> list[tuple[str, str]]:
    """Question words -> the kind of answer they call for; first match wins. Every language lists the same kinds in
    the same order."""
    tables = [_FILES[code]["question"]["kinds"] for code in LANGUAGES]
    kinds = []
    for entries in zip(*tables, strict=True):
        names = {name for name, _ in entries}
        if len(names) != 1:
            raise ValueError(f"the language files list their question kinds in different orders: {sorted(names)}")
        kinds.append((entries[0][0], "|".join(_fill(pattern) for _, pattern in entries if pattern)))
    return kinds


FUNCTION_WORDS = {code: frozenset(_FILES[code]["words"]["function"]) for code in LANGUAGES}
ACCENTED = _FILES["fr"]["words"].get("accents", "")
PHRASES = {code: dict(_FILES[code]["phrases"]) for code in LANGUAGES}

# What a question asks for.
KINDS = _kinds()
YES_NO = re.compile(either("question", "yes_no"))
LEADING_CONJUNCTION = re.compile(rf"^\s*(?:(?:{_alternation('leading_conjunctions')})\b[\s,]*)+")
OPEN = re.compile(rf"^\s*({either('question', 'open')})", re.I)
NOT_NAMES = frozenset(words("not_names"))
SCAFFOLDING = frozenset(words("scaffolding"))
NAME = re.compile(
    rf"\b(?:[A-ZÉÈÀ][\w’'.-]*[A-Za-zéèà0-9])(?:\s+(?:{_alternation('name_particles')})?\s*[A-ZÉÈÀ][\w’'-]+)*"
)
FIGURE = re.compile(_COMMON["answer"]["figure"])
HOW_MANY = either("question", "how_many")
COUNTED = re.compile(HOW_MANY + r"([\w-]+(?:\s+[\w-]+)?)", re.I)
COUNTED_OF = re.compile(HOW_MANY + either("question", "counted_of"), re.I)
FUTURE_QUESTION = re.compile(either("question", "future"), re.I)
PAST_QUESTION = re.compile(either("question", "past"), re.I)

# What answers look like.
_CASED = ("place", "person", "name")  # capitals tell a name: these read the text as written
ANSWER = {
    kind: re.compile(either("answer", kind, common=True), 0 if kind in _CASED else re.I)
    for kind in ("rate", "duration", "time", "count", "amount", "date", "place", "person", "name", "reason")
}
NOT_COUNTS = re.compile(either("answer", "not_counts"), re.I)
MONTH_SHORT = re.compile(_fill(_COMMON["claims"]["month_short"]), re.I)
FUTURE = re.compile(either("answer", "future"), re.I)
FUTURE_VERB = re.compile(either("answer", "future_verb"), re.I)
PAST = re.compile(either("answer", "past"), re.I)
SITE = re.compile(_COMMON["answer"]["site"])
LIST_ITEM = re.compile(_COMMON["text"]["list_item"])
QUOTED = re.compile(_COMMON["text"]["quoted"])
OF = re.compile(rf"^(?:{_alternation('of')})\s*", re.I)

# How a question is worded: courtesies around it, asking words, follow-ups, asks joined in one question.
OPENING = re.compile(rf"^[^\w«\"']*(?:{_listed('openings')})", re.I)  # "👋 Salut !"
CLOSING = re.compile(rf"[\s,.;!]*(?:{_listed('closings')})[\s.!]*(\?)?[\s.!]*$", re.I)


def _courtesies(code: str, *keys: str) -> re.Pattern:
    """A message made of nothing but one language's ``keys`` patterns (greetings, thanks) and punctuation."""
    listed = "|".join(pattern for key in keys for pattern in _FILES[code]["question"][key])
    return re.compile(rf"^[^\w«\"']*(?:(?:{listed})\b[\s,.;:!?]*)+$", re.I)


COURTESIES = {code: _courtesies(code, "openings", "closings") for code in LANGUAGES}  # "Bonjour !", "Merci, au revoir"
THANKS = {code: _courtesies(code, "closings") for code in LANGUAGES}

INVERSION = re.compile(either("question", "inversion"), re.I)
ASKING = re.compile(rf"^\s*(?:{_alternation('asking_openers')})\b|{INVERSION.pattern}", re.I)
ELIDED = "".join(words("elisions"))
FOLLOW_UP_START = re.compile(rf"^({_alternation('follow_up_starts')})\b", re.I)
ANAPHORA = re.compile(rf"\b({_alternation('anaphora')})\b", re.I)
SECOND_ASK = re.compile(rf"\s+(?:{_alternation('and')})\s+(?=(?:{_alternation('asking')})\b)|(?<=\?)\s+(?=\S)", re.I)

# What a generated claim is checked on against its cited passage: negation, numbers written in words.
NEGATION = re.compile(either("claims", "negation"), re.I)
APPROXIMATE = {word: value for code in LANGUAGES for word, value in _FILES[code]["claims"]["approximate"].items()}
# with its article: "une quarantaine" is 40, not 1 and 40
APPROXIMATE_WORD = re.compile(rf"(?:\b(?:{'|'.join(words('articles'))})\s+)?\b({'|'.join(APPROXIMATE)})\b", re.I)
_SUFFIXES = sorted({suffix for code in LANGUAGES for suffix in _FILES[code]["claims"]["ordinal_suffixes"]}, key=len)
CLAIM_NUMBER = re.compile(_COMMON["claims"]["number"])
THOUSANDS_SEPARATOR, DECIMAL_MARK = _COMMON["claims"]["thousands_separator"], _COMMON["claims"]["decimal_mark"]
# A date written in figures ("01/03/2017"), read in the first language's words: its month named, its day a number
NUMERIC_DATE = re.compile(either("claims", "numeric_date"))
MONTH_NAMES = _FILES[LANGUAGES[0]]["words"]["month_names"]
# A month in any language's words -> the first language's (folded): "November" says what "novembre" says
MONTH_OF = {
    fold(name): fold(MONTH_NAMES[number])
    for code in LANGUAGES
    for number, name in enumerate(_FILES[code]["words"]["month_names"])
}
# Month words that are months only when capitalised, in the languages that write them so ("May", not "may")
CAPITALISED_MONTHS = frozenset(
    fold(name)
    for code in LANGUAGES
    if _FILES[code]["words"].get("months_capitalised")
    for name in _FILES[code]["words"]["month_names"]
)
# A word and its opposite made with a prefix, as folded (the word's prefix, its opposite's): ("", "in"), ("en", "de")
OPPOSITE_PREFIXES = tuple(
    dict.fromkeys(
        (fold(word), fold(opposite))
        for code in LANGUAGES
        for word, opposite in _FILES[code]["claims"]["opposite_prefixes"]
    )
)
OPPOSITE_STEM = int(_COMMON["claims"]["opposite_stem"])
# What a word's role is read past (articles, possessives), and the words that join two things without ranking them
# (as written, in lower case: "a" is an English article, "à" a French preposition)
DETERMINERS = frozenset(word for code in LANGUAGES for word in _FILES[code]["claims"]["determiners"])
SYMMETRIC = frozenset(word for code in LANGUAGES for word in _FILES[code]["claims"]["symmetric"])
ROLE_TOKEN = re.compile(_COMMON["claims"]["role_token"])
CAPITALISED = re.compile(_COMMON["claims"]["capitalised"])
ACRONYM = re.compile(_COMMON["claims"]["acronym"])
CLAIM_TOKEN = re.compile(_COMMON["claims"]["token"])
SENTENCE_END = re.compile(_COMMON["claims"]["sentence_end"])
ELISION = re.compile(rf"^[{ELIDED}]['’]")  # "l'ENAP", "d'Ottawa": the name comes after the elision
ORDINAL = re.compile(rf"\b(\d+)\s?(?:{'|'.join(reversed(_SUFFIXES))})\b", re.I)
