"""Sentence templates: sample a meaning, then say it in any of the five languages.

A :class:`Meaning` is a template name and the lexicon entries (and numbers)
filling its slots. :func:`render` realizes it in one language, so the renders
of one meaning in two languages are translations of each other. Texts are
normalized the ESPnet way: lowercase, without punctuation (hyphens of spelled
numbers become spaces).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np
from num2words import num2words

from espnet_dynprune.data.languages import NUM2WORDS_CODES
from espnet_dynprune.data.synth.lexicon import (
    ADJECTIVES,
    ADVERBS,
    INTRANSITIVE_VERBS,
    NOUNS,
    PLACES,
    TRANSITIVE_VERBS,
    Adjective,
    Noun,
    Phrase,
    Verb,
    german_article,
)

__all__ = [
    "OPERATORS",
    "TEMPLATES",
    "Meaning",
    "normalize_text",
    "render",
    "sample_meaning",
    "spell_number",
]

TEMPLATES: dict[str, dict[str, str]] = {
    "predicate": {
        "eng": "{s} is {adj}",
        "deu": "{s} ist {adj}",
        "fra": "{s} est {adj}",
        "ita": "{s} è {adj}",
        "spa": "{s} {cop} {adj}",
    },
    "intransitive": dict.fromkeys(NUM2WORDS_CODES, "{s} {v} {adv}"),
    "intransitive_place": dict.fromkeys(NUM2WORDS_CODES, "{s} {v} {place}"),
    "transitive": dict.fromkeys(NUM2WORDS_CODES, "{s} {v} {o}"),
    "transitive_time": dict.fromkeys(NUM2WORDS_CODES, "{s} {v} {o} {adv}"),
    "transitive_place": dict.fromkeys(NUM2WORDS_CODES, "{s} {v} {o} {place}"),
    "where": {
        "eng": "where is {s}",
        "deu": "wo ist {s}",
        "fra": "où est {s}",
        "ita": "dove si trova {s}",
        "spa": "dónde está {s}",
    },
    "location": {
        "eng": "{s} is {place}",
        "deu": "{s} ist {place}",
        "fra": "{s} est {place}",
        "ita": "{s} è {place}",
        "spa": "{s} está {place}",
    },
    "price": {
        "eng": "{s} costs {n} euros",
        "deu": "{s} kostet {n} euro",
        "fra": "{s} coûte {n} euros",
        "ita": "{s} costa {n} euro",
        "spa": "{s} cuesta {n} euros",
    },
    "age": {
        "eng": "{s} is {n} years old",
        "deu": "{s} ist {n} jahre alt",
        "fra": "{s} a {n} ans",
        "ita": "{s} ha {n} anni",
        "spa": "{s} tiene {n} años",
    },
    "number": {
        "eng": "the number is {a}",
        "deu": "die nummer ist {a}",
        "fra": "le numéro est {a}",
        "ita": "il numero è {a}",
        "spa": "el número es {a}",
    },
    "arithmetic": {
        "eng": "{a} {op} {b} is {c}",
        "deu": "{a} {op} {b} ist {c}",
        "fra": "{a} {op} {b} égale {c}",
        "ita": "{a} {op} {b} fa {c}",
        "spa": "{a} {op} {b} es igual a {c}",
    },
}
"""Template name to language to format string. Slots: ``s`` subject, ``o``
object, ``v`` verb, ``adj`` predicative adjective, ``cop`` Spanish copula,
``adv`` adverbial, ``place`` place adverbial, ``n`` a number counting a noun,
``a``, ``b``, ``c`` standalone numbers, ``op`` arithmetic operator."""

OPERATORS: dict[str, dict[str, str]] = {
    "plus": {"eng": "plus", "deu": "plus", "fra": "plus", "ita": "più", "spa": "más"},
    "minus": {
        "eng": "minus",
        "deu": "minus",
        "fra": "moins",
        "ita": "meno",
        "spa": "menos",
    },
    "times": {"eng": "times", "deu": "mal", "fra": "fois", "ita": "per", "spa": "por"},
}
"""Arithmetic operators in every language."""

_TEMPLATE_WEIGHTS: dict[str, float] = {
    "predicate": 3.0,
    "intransitive": 3.0,
    "intransitive_place": 2.0,
    "transitive": 3.0,
    "transitive_time": 2.0,
    "transitive_place": 2.0,
    "where": 1.0,
    "location": 2.0,
    "price": 1.0,
    "age": 1.0,
    "number": 0.5,
    "arithmetic": 1.0,
}
_ADJECTIVE_PROBABILITY = 0.4
"""Chance that a subject or an object gets an attributive adjective."""
_COUNTED_RANGE = (2, 99)
_NUMBER_RANGE = (0, 999)
_PUNCTUATION = re.compile(r"[^\w\s]|_|\d")


@dataclass(frozen=True)
class Meaning:
    """A sentence independent of language: a template and its slot fillers.

    Attributes:
        template: Key of :data:`TEMPLATES`.
        subject: Subject noun, if the template has one.
        subject_adjective: Attributive adjective of the subject.
        adjective: Predicative adjective.
        verb: Main verb.
        obj: Direct object.
        object_adjective: Attributive adjective of the object.
        adverb: Adverbial (``now``, ``on monday``).
        place: Place adverbial (``in the garden``).
        numbers: Numbers of the ``n``, or ``a``, ``b``, ``c`` slots.
        operator: Key of :data:`OPERATORS`.
    """

    template: str
    subject: Noun | None = None
    subject_adjective: Adjective | None = None
    adjective: Adjective | None = None
    verb: Verb | None = None
    obj: Noun | None = None
    object_adjective: Adjective | None = None
    adverb: Phrase | None = None
    place: Phrase | None = None
    numbers: tuple[int, ...] = ()
    operator: str | None = None


def normalize_text(text: str) -> str:
    """Lowercases, drops punctuation and digits, and collapses whitespace.

    Hyphens become spaces (``vingt-deux`` -> ``vingt deux``); letters keep their
    accents (NFC).
    """
    text = unicodedata.normalize("NFC", text.lower().replace("-", " "))
    return " ".join(_PUNCTUATION.sub(" ", text).split())


def spell_number(number: int, lang: str, counted: bool = False) -> str:
    """Spells a number with ``num2words``, normalized.

    Args:
        number: Non-negative integer.
        lang: ISO 639-3 language code.
        counted: Whether the number counts a masculine noun (``euros``,
            ``años``): Spanish then shortens a final ``uno`` (``veintiún``).

    Returns:
        The number in words, lowercase and without hyphens.
    """
    words = normalize_text(num2words(number, lang=NUM2WORDS_CODES[lang]))
    if counted and lang == "spa" and words.endswith("uno"):
        stem = words[: -len("uno")]
        words = stem + ("ún" if stem.endswith("veinti") else "un")
    return words


def _noun_phrase(noun: Noun, adjective: Adjective | None, lang: str, case: str) -> str:
    """Definite noun phrase, optionally with an attributive adjective."""
    gender = noun.gender(lang)
    if lang == "eng":
        adjective_form = adjective.forms["eng"][0] if adjective else ""
        words = ["the", adjective_form, noun.forms[lang]]
    elif lang == "deu":
        adjective_form = ""
        if adjective:
            adjective_form = adjective.german_attributive
            if case == "acc" and gender == "m" and adjective_form.endswith("e"):
                adjective_form += "n"
        words = [german_article(gender, case), adjective_form, noun.forms[lang]]
    else:
        words = [noun.forms[lang], _agree(adjective, gender, lang) if adjective else ""]
    return " ".join(word for word in words if word)


def _agree(adjective: Adjective, gender: str, lang: str) -> str:
    """Adjective form agreeing with a noun of ``gender``."""
    masculine, feminine = adjective.forms[lang]
    return feminine if gender == "f" else masculine


def render(meaning: Meaning, lang: str) -> str:
    """Says a meaning in one language.

    Args:
        meaning: The sentence to say.
        lang: ISO 639-3 code of one of the five languages.

    Returns:
        The normalized sentence.
    """
    slots: dict[str, str] = {}
    subject, adjective = meaning.subject, meaning.adjective
    if subject is not None:
        slots["s"] = _noun_phrase(subject, meaning.subject_adjective, lang, "nom")
        if adjective is not None:
            slots["adj"] = _agree(adjective, subject.gender(lang), lang)
            slots["cop"] = adjective.spanish_copula
    if meaning.obj is not None:
        slots["o"] = _noun_phrase(meaning.obj, meaning.object_adjective, lang, "acc")
    if meaning.verb is not None:
        slots["v"] = meaning.verb.forms[lang]
    if meaning.adverb is not None:
        slots["adv"] = meaning.adverb.forms[lang]
    if meaning.place is not None:
        slots["place"] = meaning.place.forms[lang]
    if meaning.operator is not None:
        slots["op"] = OPERATORS[meaning.operator][lang]
    if meaning.template in ("price", "age"):
        slots["n"] = spell_number(meaning.numbers[0], lang, counted=True)
    else:
        names = "abc"[: len(meaning.numbers)]
        for name, number in zip(names, meaning.numbers, strict=True):
            slots[name] = spell_number(number, lang)
    return normalize_text(TEMPLATES[meaning.template][lang].format(**slots))


def _choice(rng: np.random.Generator, items: list | tuple):
    """Uniform random element of a non-empty sequence."""
    return items[int(rng.integers(len(items)))]


def _nouns_with(tags: frozenset[str]) -> list[Noun]:
    return [noun for noun in NOUNS if noun.tags & tags]


def _maybe_adjective(
    rng: np.random.Generator, noun: Noun, exclude: Adjective | None = None
) -> Adjective | None:
    """An attributive adjective that fits ``noun``, with some probability."""
    if rng.random() >= _ADJECTIVE_PROBABILITY:
        return None
    fitting = [
        adj
        for adj in ADJECTIVES
        if adj.attributive and adj.tags & noun.tags and adj is not exclude
    ]
    return _choice(rng, fitting) if fitting else None


def _sample_numbers(
    rng: np.random.Generator, template: str
) -> tuple[tuple[int, ...], str | None]:
    """Numbers (and operator) of the number templates."""
    if template in ("price", "age"):
        return (int(rng.integers(_COUNTED_RANGE[0], _COUNTED_RANGE[1] + 1)),), None
    if template == "number":
        return (int(rng.integers(_NUMBER_RANGE[0], _NUMBER_RANGE[1] + 1)),), None
    operator = _choice(rng, tuple(OPERATORS))
    if operator == "plus":
        a, b = (int(x) for x in rng.integers(0, 21, size=2))
        return (a, b, a + b), operator
    if operator == "minus":
        a = int(rng.integers(0, 41))
        b = int(rng.integers(0, a + 1))
        return (a, b, a - b), operator
    a, b = (int(x) for x in rng.integers(0, 13, size=2))
    return (a, b, a * b), operator


def sample_meaning(rng: np.random.Generator) -> Meaning:
    """Draws a random meaning: a template with fitting slot fillers.

    Args:
        rng: Random generator (the only source of randomness).

    Returns:
        The meaning, to be rendered with :func:`render`.
    """
    names = tuple(_TEMPLATE_WEIGHTS)
    weights = np.array([_TEMPLATE_WEIGHTS[name] for name in names])
    template = names[int(rng.choice(len(names), p=weights / weights.sum()))]
    if template in ("number", "arithmetic"):
        numbers, operator = _sample_numbers(rng, template)
        return Meaning(template, numbers=numbers, operator=operator)

    fields: dict = {}
    if template == "predicate":
        adjective = _choice(rng, ADJECTIVES)
        subject = _choice(rng, _nouns_with(adjective.tags))
        fields["adjective"] = adjective
    elif template.startswith("intransitive"):
        verbs = INTRANSITIVE_VERBS
        if template == "intransitive_place":
            verbs = tuple(verb for verb in verbs if verb.locative)
        fields["verb"] = _choice(rng, verbs)
        subject = _choice(rng, _nouns_with(fields["verb"].subject_tags))
    elif template.startswith("transitive"):
        fields["verb"] = verb = _choice(rng, TRANSITIVE_VERBS)
        subject = _choice(rng, _nouns_with(verb.subject_tags))
        fields["obj"] = obj = _choice(rng, _nouns_with(verb.object_tags))
        fields["object_adjective"] = _maybe_adjective(rng, obj)
    elif template == "price":
        subject = _choice(rng, _nouns_with(frozenset({"thing", "food", "drink"})))
    elif template == "age":
        subject = _choice(rng, _nouns_with(frozenset({"person", "animal"})))
    else:
        subject = _choice(rng, NOUNS)
    fields["subject_adjective"] = _maybe_adjective(
        rng, subject, exclude=fields.get("adjective")
    )

    if template in ("intransitive", "transitive_time"):
        adverbs = ADVERBS
        if template == "transitive_time":
            adverbs = tuple(adverb for adverb in adverbs if "time" in adverb.tags)
        fields["adverb"] = _choice(rng, adverbs)
    if template.endswith("place") or template == "location":
        fields["place"] = _choice(rng, PLACES)
    if template in ("price", "age"):
        fields["numbers"], _ = _sample_numbers(rng, template)
    return Meaning(template, subject=subject, **fields)
