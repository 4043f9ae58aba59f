"""How a question is worded: its language (French or English), what it asks once its courtesies are set aside,
the names it types in lower case; and the phrases we answer with in each language."""

from __future__ import annotations

import re

from assistant.answering.support import fold
from assistant.keywords import analyze

_FRENCH = frozenset(
    "le la les des du de un une est sont que qui quoi quel quelle quels quelles comment combien pourquoi où "
    "et ou pour dans sur avec par au aux ce cette ces il elle ils elles on nous vous leur qu l d".split()
)
_ENGLISH = frozenset(
    "the a an is are was were what which who whom how why where when of in on for with by to and or does do "
    "did has have it its this that these those their there many much".split()
)

# What people write around a question ("Bonjour, pourriez-vous me dire ...", "..., merci !"): it asks nothing.
_OPENING = re.compile(
    r"^[^\w«\"']*(?:(?:bonjour|bonsoir|salut|coucou|hello|hi|hey|dear \w+)\b[\s,.;:!]*"  # "👋 Salut !"
    r"|(?:excusez-moi|pardon|une (?:petite )?question|(?:a |one )?quick question|please)\b[\s,.;:!]*"
    r"|(?:je (?:voudrais|souhaiterais|souhaite|veux|cherche à|aimerais)|j['’](?:aimerais|ai besoin de))"
    r" (?:savoir|connaître|connaitre|comprendre|avoir des informations sur)\b[\s,:]*"
    r"|(?:pouvez|pourriez|peux|pourrais)[- ](?:vous|tu) (?:me dire|m['’]indiquer|m['’]expliquer|me préciser|"
    r"me rappeler|préciser|indiquer|expliquer|dire)\b[\s,:]*"
    r"|(?:dites|dis|indiquez|indique|expliquez|explique|rappelez|rappelle)-moi\b[\s,:]*"
    r"|(?:could|can|would) you (?:please )?(?:tell me|explain|let me know)\b[\s,:]*"
    r"|i(?: would|['’]d) like to know\b[\s,:]*|i want to know\b[\s,:]*)",
    re.I,
)
_CLOSING = re.compile(
    r"[\s,.;!]*(?:merci(?: d['’]avance| beaucoup)?|svp|s['’]il (?:vous|te) pla[iî]t|please|thanks?(?: you)?)"
    r"[\s.!]*(\?)?[\s.!]*$",
    re.I,
)

# A question without its question mark ("quand a eu lieu le barcamp"): it opens on an asking word, or inverts its
# subject ("a-t-il", "peut-on").
_ASKING = re.compile(
    r"^\s*(?:qui|que|qu['’]|quel(?:le)?s?|lequel|laquelle|comment|combien|pourquoi|où|ou|quand|est-ce|"
    r"what|who|which|how|why|where|when|is|are|does|do|did|can)\b|\b-t-(?:il|elle|on)\b|-(?:il|elle|ils|elles|on)\b",
    re.I,
)

PHRASES = {
    "fr": {
        "intro": "D'après les documents :",
        "not_found": "Je n'ai pas trouvé de réponse à cette question dans les documents.",
        "closest": "Les passages les plus proches sont listés ci-dessous.",
        "partial": "Réponse partielle : les documents ne répondent pas à {missing}.",
        "unsupported": "non étayé par les sources",
        "unsupported_cited": "non étayé par la source citée",
        "llm_busy": "Le modèle de langue est occupé : voici une réponse extraite des documents.",
        "llm_down": "Le modèle de langue est injoignable ({error}) : voici une réponse extraite des documents.",
        "invalid_marker": "renvoi [{number}] supprimé : il ne correspond à aucune source",
    },
    "en": {
        "intro": "According to the documents:",
        "not_found": "I could not find an answer to this question in the documents.",
        "closest": "The closest passages are listed below.",
        "partial": "Partial answer: the documents do not answer {missing}.",
        "unsupported": "not supported by the sources",
        "unsupported_cited": "not supported by the cited source",
        "llm_busy": "The language model is busy: here is an answer extracted from the documents.",
        "llm_down": "The language model cannot be reached ({error}): here is an answer extracted from the documents.",
        "invalid_marker": "marker [{number}] removed: it points to no source",
    },
}


def detect_language(text: str) -> str:
    """'fr' or 'en'; French when in doubt (our users' language). An accent in a lower-case word is French; in a
    name it says nothing, since English questions about these documents name French places and people.

    >>> [detect_language(q) for q in ("How many employees does Revenu Québec have?", "Où est né Gérard ?",
    ...  "Quelle équipe ?", "Who is Yvan Lauzon?", "Qui est Yvan Lauzon ?")]
    ['en', 'fr', 'fr', 'en', 'fr']
    """
    words = re.findall(r"[a-zà-ÿ]+", re.sub(r"['’]", " ", text.lower()))
    if re.search(r"(?<![\w’'-])[a-zà-ÿ]*[éèêàçùûôîœ]", re.sub(r"\b[A-ZÀ-Ý][\w’'-]*", " ", text)):
        return "fr"
    french = sum(word in _FRENCH for word in words)
    english = sum(word in _ENGLISH for word in words)
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
    """
    core = question
    while (opened := _OPENING.sub("", core, count=1)) != core:
        core = opened
    core = _CLOSING.sub(lambda closing: closing.group(1) or "", core).strip()
    if core and not core.endswith("?") and _ASKING.search(core):
        core += "?" if detect_language(core) == "en" else " ?"  # as the questions the answering was tuned on
    return core[:1].upper() + core[1:] if len(analyze(core)) else question


# A word, and whether it stands inside a sentence: after a lower-case word and one space ("du SIILAB"), or an elision
# ("l'ENAP"); not after a line break, a bullet or the wide gaps of a flattened table, where any word is capitalised.
_TOKEN = re.compile(r"((?<=[a-zà-ÿ0-9,]) (?=\S)|(?<=\b[ldLD])['’])?\b([^\W\d_][\w-]*)")


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
