"""The parallel lexicon: well-formed, unambiguous, punctuation-free entries."""

import re
from importlib.resources import files
from pathlib import Path

import pytest

from espnet_dynprune.data.languages import LANGUAGES
from espnet_dynprune.data.synth.lexicon import (
    ADJECTIVES,
    ADVERBS,
    INTRANSITIVE_VERBS,
    NOUNS,
    PLACES,
    TABLES,
    TRANSITIVE_VERBS,
    load_lexicon,
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


def copy_tables(directory: Path) -> None:
    """Writes a copy of the packaged lexicon tables into ``directory``."""
    packaged = files("espnet_dynprune.data.synth") / "lexicon_tables"
    for name in TABLES:
        text = (packaged / name).read_text(encoding="utf-8")
        (directory / name).write_text(text, encoding="utf-8")


def replace_line(path: Path, number: int, old: str, new: str) -> None:
    """Replaces ``old`` by ``new`` in line ``number`` (1-based) of ``path``."""
    lines = path.read_text(encoding="utf-8").split("\n")
    assert old in lines[number - 1], lines[number - 1]
    lines[number - 1] = lines[number - 1].replace(old, new, 1)
    path.write_text("\n".join(lines), encoding="utf-8")


def test_tables_ship_with_the_package_and_reload_identically(tmp_path):
    copy_tables(tmp_path)
    lexicon = load_lexicon(tmp_path)
    assert lexicon.nouns == NOUNS and lexicon.adjectives == ADJECTIVES
    assert lexicon.intransitive_verbs == INTRANSITIVE_VERBS
    assert lexicon.transitive_verbs == TRANSITIVE_VERBS
    assert lexicon.adverbs == ADVERBS and lexicon.places == PLACES


@pytest.mark.parametrize(
    "name, line, old, new, message",
    [
        ("nouns.tsv", 4, "\tm\t", "\t", "6 tab-separated cells, expected 7"),
        ("nouns.tsv", 3, "\tf\t", "\tx\t", "deu_gender must be one of m, f, n"),
        ("nouns.tsv", 2, "le monsieur", "monsieur", "fra noun without a definite"),
        ("adjectives.tsv", 3, "bleu/bleue", "bleu", "fra must read masculine/fem"),
        ("adjectives.tsv", 2, "\tes\t", "\tson\t", "spa_copula must be one of"),
        ("intransitive_verbs.tsv", 3, "\ty", "\tyes", "locative must be one of y, -"),
        ("places.tsv", 30, "\tplace", "\tplace ", "tags is empty or padded"),
        ("adverbs.tsv", 1, "eng\tdeu", "deu\teng", "the header must name"),
    ],
)
def test_malformed_rows_are_reported_with_file_and_line(
    tmp_path, name, line, old, new, message
):
    copy_tables(tmp_path)
    replace_line(tmp_path / name, line, old, new)
    where = re.escape(f"{tmp_path / name}:{line}: ")
    with pytest.raises(ValueError, match=where + re.escape(message)):
        load_lexicon(tmp_path)


def test_missing_table_is_named(tmp_path):
    copy_tables(tmp_path)
    (tmp_path / "places.tsv").unlink()
    with pytest.raises(FileNotFoundError, match=re.escape(str(tmp_path / "places"))):
        load_lexicon(tmp_path)
