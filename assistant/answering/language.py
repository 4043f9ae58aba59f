"""How a question is worded: its language (French or English), what it asks once its courtesies are set aside,
the names it types in lower case; and the phrases we answer with in each language."""

from __future__ import annotations

import re

from assistant.answering.lexicon import (
    ACCENTED,
    ASKING,
    CLOSING,
    COURTESIES,
    ELIDED,
    FUNCTION_WORDS,
    LANGUAGES,
    OPENING,
    PHRASES,
    QUOTED,
    THANKS,
)
from assistant.keywords import analyze, fold

__all__ = ["PHRASES", "core_question", "courtesy", "detect_language", "restore_names"]


def detect_language(text: str) -> str:
    """'fr' or 'en'; French when in doubt (our users' language). An accent in a lower-case word is French; in a
    name it says nothing, since English questions about these documents name French places and people.

    >>> [detect_language(q) for q in ("How many employees does Revenu Québec have?", "Où est né Gérard ?",
    ...  "Quelle équipe ?", "Who is Yvan Lauzon?", "Qui est Yvan Lauzon ?")]
    ['en', 'fr', 'fr', 'en', 'fr']

    What « guillemets » quote is a title or a name, in whatever language: it says nothing of the sentence's.

    >>> detect_language("The content of « Innovation publique à l'ère du numérique » has been available since 2016.")
    'en'
    """
    text = QUOTED.sub(" ", text)
    words = re.findall(r"[a-zà-ÿ]+", re.sub(r"['’]", " ", text.lower()))
    if re.search(rf"(?<![\w’'-])[a-zà-ÿ]*[{ACCENTED}]", re.sub(r"\b[A-ZÀ-Ý][\w’'-]*", " ", text)):
        return "fr"
    french = sum(word in FUNCTION_WORDS["fr"] for word in words)
    english = sum(word in FUNCTION_WORDS["en"] for word in words)
    return "en" if english > french else "fr"


def core_question(question: str) -> str:
    """The question as the answering reads it: without the greetings, requests and thanks around it, which ask
    nothing, and with its question mark.

    >>> core_question("Bonjour, pourriez-vous me dire qui organisait le barcamp ? Merci d'avance !")
    'Qui organisait le barcamp ?'
    >>> core_question("Hi! Could you tell me when the week was held, please?")
    'When the week was held?'
    >>> core_question("👋 Salut ! c'est quand la semaine ?")
    "C'est quand la semaine ?"
    >>> core_question("Bonjour"), core_question("Pourquoi dire bonjour ?")
    ('Bonjour', 'Pourquoi dire bonjour ?')
    >>> core_question("quand a eu lieu le barcamp"), core_question("budget du barcamp")
    ('Quand a eu lieu le barcamp ?', 'Budget du barcamp')
    >>> core_question("Qui organisait le barcamp ? Merci, bonne journée")
    'Qui organisait le barcamp ?'
    """
    core = question
    while (opened := OPENING.sub("", core, count=1)) != core:
        core = opened
    while (closed := CLOSING.sub(lambda closing: closing.group(1) or "", core, count=1).strip()) != core:
        core = closed  # "..., merci, bonne journée"
    if core and not core.endswith("?") and ASKING.search(core):
        core += "?" if detect_language(core) == "en" else " ?"  # as the questions the answering was tuned on
    return core[:1].upper() + core[1:] if len(analyze(core)) else question


def courtesy(message: str) -> tuple[str, str] | None:
    """When a message asks nothing, only greets or thanks: its language, and "greeting" or "thanks".

    >>> courtesy("Bonjour !"), courtesy("Merci beaucoup, bonne journée"), courtesy("Hi there"), courtesy("Thanks!")
    (('fr', 'greeting'), ('fr', 'thanks'), None, ('en', 'thanks'))
    >>> courtesy("Bonjour, qui organise la semaine ?"), courtesy("Pourquoi dire bonjour ?")
    (None, None)
    """
    message = message.strip()
    for code in LANGUAGES:
        if COURTESIES[code].match(message):
            return code, "thanks" if THANKS[code].match(message) else "greeting"
    return None


# A word, and whether it stands inside a sentence: after a lower-case word and one space ("du SIILAB"), or an elision
# ("l'ENAP"); not after a line break, a bullet or the wide gaps of a flattened table, where any word is capitalised.
_TOKEN = re.compile(rf"((?<=[a-zà-ÿ0-9,]) (?=\S)|(?<=\b[{ELIDED}])['’])?\b([^\W\d_][\w-]*)")


def restore_names(question: str, texts: list[str]) -> str:
    """A question typed all in lower case, with the names written as ``texts`` (the passages found for it) write
    them: "qui dirige le siilab ?" asks about the SIILAB, a name, not about any lab. A word is a name when those
    texts capitalise it inside sentences more often than not. A question with capitals is left as typed.

    >>> restore_names("qui dirige le siilab et la fonction ?", ["L'afterlab du SIILAB.", "Une fonction. La Fonction"])
    'qui dirige le SIILAB et la fonction ?'
    >>> restore_names("que recommande l'enap ?", ["Une conférence à l'ENAP."])
    "que recommande l'ENAP ?"
    """
    if question[1:] != question[1:].lower():
        return question
    capitalised: dict[str, dict[str, int]] = {}
    lower: dict[str, int] = {}
    for text in texts:
        for before, word in _TOKEN.findall(text):
            key = fold(word)
            if word[:1].islower():
                lower[key] = lower.get(key, 0) + 1
            elif before:
                forms = capitalised.setdefault(key, {})
                forms[word] = forms.get(word, 0) + 1

    def written(match: re.Match) -> str:
        word = match.group(0)
        forms = capitalised.get(fold(word))
        if not forms or sum(forms.values()) <= lower.get(fold(word), 0):
            return word
        return max(forms, key=forms.get)

    return re.sub(r"[^\W\d_][\w-]*", written, question)
