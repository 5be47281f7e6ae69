"""The parallel lexicon: well-formed, unambiguous, punctuation-free entries."""

import pytest

from espnet_dynprune.data.languages import LANGUAGES
from espnet_dynprune.data.synth.lexicon import (
    ADJECTIVES,
    ADVERBS,
    INTRANSITIVE_VERBS,
    NOUNS,
    PLACES,
    TRANSITIVE_VERBS,
    romance_gender,
)
from espnet_dynprune.data.synth.sentences import normalize_text

VOWELS = set("aeiouàâäéèêëîïôöùûüœæ")
ENTRY_CLASSES = {
    "nouns": [noun.forms for noun in NOUNS],
    "adjectives": [{k: v[0] for k, v in a.forms.items()} for a in ADJECTIVES],
    "intransitive verbs": [verb.forms for verb in INTRANSITIVE_VERBS],
    "transitive verbs": [verb.forms for verb in TRANSITIVE_VERBS],
    "adverbs": [adverb.forms for adverb in ADVERBS],
    "places": [place.forms for place in PLACES],
}


def test_sizes():
    assert len(NOUNS) >= 150
    assert len(ADJECTIVES) >= 60
    assert len(INTRANSITIVE_VERBS) + len(TRANSITIVE_VERBS) >= 60
    assert len(ADVERBS) >= 30 and len(PLACES) >= 25


@pytest.mark.parametrize("name", sorted(ENTRY_CLASSES))
def test_forms_are_normalized_and_unambiguous(name):
    entries = ENTRY_CLASSES[name]
    for lang in LANGUAGES:
        forms = [entry[lang] for entry in entries]
        assert all(form == normalize_text(form) and form for form in forms), lang
        duplicates = {form for form in forms if forms.count(form) > 1}
        assert not duplicates, f"ambiguous {lang} {name}: {duplicates}"


def test_adjective_forms_are_normalized():
    for adjective in ADJECTIVES:
        for masculine, feminine in adjective.forms.values():
            assert masculine == normalize_text(masculine)
            assert feminine == normalize_text(feminine)
        assert adjective.german_attributive == normalize_text(
            adjective.german_attributive
        )
        assert adjective.spanish_copula in ("es", "está")


@pytest.mark.parametrize("lang", ["fra", "ita", "spa"])
def test_romance_nouns_have_articles_and_never_elide(lang):
    for noun in NOUNS:
        assert romance_gender(noun.forms[lang], lang) in ("m", "f")
        word = noun.forms[lang].split(" ", 1)[1]
        if lang != "spa":  # no "l'" in French and Italian
            assert word[0] not in VOWELS, noun.forms[lang]


def test_german_genders():
    assert {noun.german_gender for noun in NOUNS} == {"m", "f", "n"}


def test_romance_gender_rejects_bare_nouns():
    with pytest.raises(ValueError, match="without a definite article"):
        romance_gender("maison", "fra")


def test_every_tag_is_used_by_some_noun():
    noun_tags = set().union(*(noun.tags for noun in NOUNS))
    for adjective in ADJECTIVES:
        assert adjective.tags <= noun_tags, adjective.forms["eng"]
    for verb in INTRANSITIVE_VERBS + TRANSITIVE_VERBS:
        assert verb.subject_tags <= noun_tags, verb.forms["eng"]
        assert verb.object_tags <= noun_tags, verb.forms["eng"]
