"""Which language a question is in (French or English), and the phrases we answer with in each."""

from __future__ import annotations

import re

_FRENCH = frozenset(
    "le la les des du de un une est sont que qui quoi quel quelle quels quelles comment combien pourquoi où "
    "et ou pour dans sur avec par au aux ce cette ces il elle ils elles on nous vous leur qu l d".split()
)
_ENGLISH = frozenset(
    "the a an is are was were what which who whom how why where when of in on for with by to and or does do "
    "did has have it its this that these those their there many much".split()
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
