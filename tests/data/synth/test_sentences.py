"""Templates render correct, normalized translations in all five languages."""

from collections import defaultdict

import numpy as np
import pytest

from espnet_dynprune.data.languages import LANGUAGES
from espnet_dynprune.data.synth.lexicon import (
    ADJECTIVES,
    ADVERBS,
    INTRANSITIVE_VERBS,
    NOUNS,
    PLACES,
    TRANSITIVE_VERBS,
)
from espnet_dynprune.data.synth.sentences import (
    Meaning,
    normalize_text,
    render,
    sample_meaning,
    spell_number,
)


def _by_english(entries, english):
    return next(entry for entry in entries if entry.forms["eng"] == english)


def _adjective(english):
    return next(a for a in ADJECTIVES if a.forms["eng"][0] == english)


GOLDEN = [
    (
        Meaning(
            "transitive_time",
            subject=_by_english(NOUNS, "woman"),
            verb=_by_english(TRANSITIVE_VERBS, "buys"),
            obj=_by_english(NOUNS, "ball"),
            object_adjective=_adjective("red"),
            adverb=_by_english(ADVERBS, "tomorrow"),
        ),
        {
            "eng": "the woman buys the red ball tomorrow",
            "deu": "die frau kauft den roten ball morgen",
            "fra": "la femme achète le ballon rouge demain",
            "ita": "la donna compra il pallone rosso domani",
            "spa": "la mujer compra el balón rojo mañana",
        },
    ),
    (
        Meaning(
            "predicate",
            subject=_by_english(NOUNS, "soup"),
            subject_adjective=_adjective("delicious"),
            adjective=_adjective("cold"),
        ),
        {
            "eng": "the delicious soup is cold",
            "deu": "die leckere suppe ist kalt",
            "fra": "la soupe délicieuse est froide",
            "ita": "la minestra deliziosa è fredda",
            "spa": "la sopa deliciosa está fría",
        },
    ),
    (
        Meaning(
            "intransitive_place",
            subject=_by_english(NOUNS, "cat"),
            verb=_by_english(INTRANSITIVE_VERBS, "hides"),
            place=_by_english(PLACES, "in the garden"),
        ),
        {
            "eng": "the cat hides in the garden",
            "deu": "die katze versteckt sich im garten",
            "fra": "le chat se cache dans le jardin",
            "ita": "il gatto si nasconde nel giardino",
            "spa": "el gato se esconde en el jardín",
        },
    ),
    (
        Meaning("price", subject=_by_english(NOUNS, "mirror"), numbers=(21,)),
        {
            "eng": "the mirror costs twenty one euros",
            "deu": "der spiegel kostet einundzwanzig euro",
            "fra": "le miroir coûte vingt et un euros",
            "ita": "lo specchio costa ventuno euro",
            "spa": "el espejo cuesta veintiún euros",
        },
    ),
    (
        Meaning("age", subject=_by_english(NOUNS, "girl"), numbers=(31,)),
        {
            "eng": "the girl is thirty one years old",
            "deu": "das mädchen ist einunddreißig jahre alt",
            "fra": "la fille a trente et un ans",
            "ita": "la ragazza ha trentuno anni",
            "spa": "la chica tiene treinta y un años",
        },
    ),
    (
        Meaning("arithmetic", numbers=(7, 15, 22), operator="plus"),
        {
            "eng": "seven plus fifteen is twenty two",
            "deu": "sieben plus fünfzehn ist zweiundzwanzig",
            "fra": "sept plus quinze égale vingt deux",
            "ita": "sette più quindici fa ventidue",
            "spa": "siete más quince es igual a veintidós",
        },
    ),
]


@pytest.mark.parametrize("meaning,expected", GOLDEN)
def test_golden_translations(meaning, expected):
    assert {lang: render(meaning, lang) for lang in LANGUAGES} == expected


def test_normalize_text():
    assert normalize_text("Quatre-vingt-DIX, l'été!  2") == "quatre vingt dix l été"


def test_spell_number():
    assert spell_number(80, "fra") == "quatre vingts"
    assert spell_number(21, "spa") == "veintiuno"
    assert spell_number(21, "spa", counted=True) == "veintiún"
    assert spell_number(41, "spa", counted=True) == "cuarenta y un"


@pytest.fixture(scope="module")
def samples():
    rng = np.random.default_rng(0)
    meanings = [sample_meaning(rng) for _ in range(20000)]
    return {lang: [render(m, lang) for m in meanings] for lang in LANGUAGES}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_vocabulary_and_normalization(samples, lang):
    vocabulary = {word for text in samples[lang] for word in text.split()}
    assert len(vocabulary) >= 300, len(vocabulary)
    assert all(word.isalpha() and word == word.lower() for word in vocabulary)


@pytest.mark.parametrize("lang", ["deu", "fra", "ita", "spa"])
def test_translation_is_one_to_one(samples, lang):
    """Same English sentence <-> same source sentence: no ambiguity either way."""
    to_source, to_english = defaultdict(set), defaultdict(set)
    for english, source in zip(samples["eng"], samples[lang], strict=True):
        to_source[english].add(source)
        to_english[source].add(english)
    assert all(len(sources) == 1 for sources in to_source.values())
    assert all(len(englishes) == 1 for englishes in to_english.values())


def test_sampling_is_deterministic():
    first, second = np.random.default_rng(5), np.random.default_rng(5)
    assert [sample_meaning(first) for _ in range(50)] == [
        sample_meaning(second) for _ in range(50)
    ]
