"""Parallel lexicon of the synthetic corpus: English, German, French, Italian, Spanish.

Every entry is one concept with its hand-checked word form in each language, so
sentences built from the same entries are exact translations of each other.
Agreement is handled by storing the forms a template needs:

* nouns carry their definite article in French, Italian and Spanish (hence
  their gender) and a gender letter in German, whose articles and adjective
  endings are derived (:func:`german_article`);
* adjectives carry masculine and feminine forms in the Romance languages, the
  German attributive form after a definite article, and the Spanish copula
  (``es`` or ``está``) they take;
* verbs are stored in the third person singular of the present tense.

French and Italian nouns never start with a vowel (or a mute ``h``), so no
article is elided (no ``l'``) and every text stays free of apostrophes.

Tags restrict which nouns a verb or an adjective may combine with, to keep the
sentences plausible (nobody eats a chair): a noun's tags are its kind
(``person``, ``animal``, ``thing``, ``food``, ``drink``) plus properties such
as ``open`` (can be opened) or ``hold`` (a container).

The entries live in UTF-8 tab-separated tables shipped with the package, one
per word class, in ``lexicon_tables/`` next to this module (:data:`TABLES`
names each file and its columns). The first line of a table is its header;
every other line is one entry. Cells are never empty nor padded with spaces;
tags are separated by spaces, flags are ``y`` or ``-``, and Romance adjective
cells read ``masculine/feminine``. The sampler draws entries by position, so
reordering or inserting rows changes the generated corpus. The tables are read
and checked once, at import; :func:`load_lexicon` reads another copy of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from importlib.abc import Traversable

__all__ = [
    "ADJECTIVES",
    "ADVERBS",
    "INTRANSITIVE_VERBS",
    "NOUNS",
    "PLACES",
    "TABLES",
    "TRANSITIVE_VERBS",
    "Adjective",
    "Lexicon",
    "Noun",
    "Phrase",
    "Verb",
    "german_article",
    "load_lexicon",
    "romance_gender",
]

_LANGS = ("eng", "deu", "fra", "ita", "spa")
_ROMANCE_ARTICLES = {
    "fra": {"le": "m", "la": "f"},
    "ita": {"il": "m", "lo": "m", "la": "f"},
    "spa": {"el": "m", "la": "f"},
}
_GERMAN_ARTICLES = {
    "nom": {"m": "der", "f": "die", "n": "das"},
    "acc": {"m": "den", "f": "die", "n": "das"},
}
_SPANISH_COPULAS = ("es", "está")
_PACKAGE = "espnet_dynprune.data.synth"
_TABLES_DIR = "lexicon_tables"

TABLES: dict[str, tuple[str, ...]] = {
    "nouns.tsv": (*_LANGS, "deu_gender", "tags"),
    "adjectives.tsv": (
        *_LANGS,
        "deu_attributive",
        "spa_copula",
        "attributive",
        "tags",
    ),
    "intransitive_verbs.tsv": (*_LANGS, "subject_tags", "locative"),
    "transitive_verbs.tsv": (*_LANGS, "object_tags"),
    "adverbs.tsv": (*_LANGS, "tags"),
    "places.tsv": (*_LANGS, "tags"),
}
"""File name of each lexicon table to the columns its header names, in order."""


def romance_gender(noun_phrase: str, lang: str) -> str:
    """Returns ``m`` or ``f``: the gender shown by a Romance noun's article.

    Args:
        noun_phrase: Definite noun phrase such as ``la maison``.
        lang: ``fra``, ``ita`` or ``spa``.

    Raises:
        ValueError: If the phrase does not start with a known definite article.
    """
    article = noun_phrase.split(" ", 1)[0]
    try:
        return _ROMANCE_ARTICLES[lang][article]
    except KeyError:
        raise ValueError(
            f"{lang} noun without a definite article: {noun_phrase!r}"
        ) from None


def german_article(gender: str, case: str) -> str:
    """Returns the German definite article for a gender (m, f, n) and case."""
    return _GERMAN_ARTICLES[case][gender]


@dataclass(frozen=True)
class Noun:
    """A noun in every language.

    Attributes:
        forms: Language code to form: the bare noun for English and German,
            the noun with its definite article for French, Italian, Spanish.
        german_gender: ``m``, ``f`` or ``n``.
        tags: Kind of the noun and its properties.
    """

    forms: dict[str, str]
    german_gender: str
    tags: frozenset[str]

    def gender(self, lang: str) -> str:
        """Grammatical gender in ``lang`` (``m``, ``f`` or, in German, ``n``)."""
        if lang == "deu":
            return self.german_gender
        if lang == "eng":
            return "n"
        return romance_gender(self.forms[lang], lang)


@dataclass(frozen=True)
class Adjective:
    """An adjective in every language.

    Attributes:
        forms: Language code to ``(masculine, feminine)`` forms (English and
            German: the same form twice, the predicative one).
        german_attributive: German form after a definite article in the
            nominative singular (``rote`` in ``der rote ball``).
        spanish_copula: ``es`` or ``está``, the copula Spanish uses with it.
        attributive: Whether it may stand next to a noun in every language (it
            follows the noun in the Romance languages without changing meaning).
        tags: Noun tags it can describe.
    """

    forms: dict[str, tuple[str, str]]
    german_attributive: str
    spanish_copula: str
    attributive: bool
    tags: frozenset[str]


@dataclass(frozen=True)
class Verb:
    """A verb in the third person singular of the present tense.

    Attributes:
        forms: Language code to form (may be several words: ``se cache``).
        subject_tags: Noun tags its subject may have.
        object_tags: Noun tags its direct object may have (transitive verbs).
        locative: Whether ``<subject> <verb> <place>`` reads naturally.
    """

    forms: dict[str, str]
    subject_tags: frozenset[str]
    object_tags: frozenset[str]
    locative: bool


@dataclass(frozen=True)
class Phrase:
    """A fixed phrase (adverbial or place) in every language.

    Attributes:
        forms: Language code to phrase.
        tags: ``time`` for adverbs that fit after a direct object too.
    """

    forms: dict[str, str]
    tags: frozenset[str]


@dataclass(frozen=True)
class Lexicon:
    """Every entry of the lexicon tables, in table order.

    Attributes:
        nouns: People, animals, things, food and drinks.
        adjectives: Adjectives with their agreement forms.
        intransitive_verbs: Verbs used without an object.
        transitive_verbs: Verbs taking a person as subject and a direct object.
        adverbs: Adverbials that end a sentence.
        places: Place adverbials, with the preposition and article.
    """

    nouns: tuple[Noun, ...]
    adjectives: tuple[Adjective, ...]
    intransitive_verbs: tuple[Verb, ...]
    transitive_verbs: tuple[Verb, ...]
    adverbs: tuple[Phrase, ...]
    places: tuple[Phrase, ...]


@dataclass(frozen=True)
class _Row:
    """One entry line of a table.

    Attributes:
        where: ``<file>:<line>``, the prefix of every error about the row.
        cells: Column name to cell.
    """

    where: str
    cells: dict[str, str]

    def forms(self) -> dict[str, str]:
        """Language code to the cell of that language."""
        return {lang: self.cells[lang] for lang in _LANGS}

    def tags(self, column: str) -> frozenset[str]:
        """The space-separated tags of ``column``."""
        return frozenset(self.cells[column].split())

    def choice(self, column: str, allowed: tuple[str, ...]) -> str:
        """The cell of ``column``, checked to be one of ``allowed``.

        Raises:
            ValueError: If it is not, naming the file and line.
        """
        value = self.cells[column]
        if value not in allowed:
            raise ValueError(
                f"{self.where}: {column} must be one of {', '.join(allowed)}, "
                f"got {value!r}"
            )
        return value

    def flag(self, column: str) -> bool:
        """Whether the ``y``/``-`` cell of ``column`` is ``y``.

        Raises:
            ValueError: If the cell is neither, naming the file and line.
        """
        return self.choice(column, ("y", "-")) == "y"


def _read_table(directory: Traversable, name: str) -> list[_Row]:
    """Reads the table ``name`` of ``directory`` and checks its shape.

    Raises:
        FileNotFoundError: If the file does not exist.
        ValueError: If the header differs from :data:`TABLES`, the table has no
            entries, or a line has the wrong number of cells or an empty or
            space-padded cell; the message names the file and line.
    """
    path = directory / name
    if not path.is_file():
        raise FileNotFoundError(f"lexicon table not found: {path}")
    columns = TABLES[name]
    lines = path.read_text(encoding="utf-8").split("\n")
    if lines[-1] == "":
        lines.pop()
    header = tuple(lines[0].split("\t")) if lines else ()
    if header != columns:
        raise ValueError(
            f"{path}:1: the header must name the tab-separated columns "
            f"{', '.join(columns)}; got {', '.join(header) or 'nothing'}"
        )
    if len(lines) == 1:
        raise ValueError(f"{path}: no entries after the header")
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        where = f"{path}:{number}"
        cells = line.split("\t")
        if len(cells) != len(columns):
            raise ValueError(
                f"{where}: {len(cells)} tab-separated cells, expected "
                f"{len(columns)} ({', '.join(columns)})"
            )
        for column, cell in zip(columns, cells, strict=True):
            if not cell or cell != cell.strip():
                raise ValueError(
                    f"{where}: {column} is empty or padded with spaces: {cell!r}"
                )
        rows.append(_Row(where=where, cells=dict(zip(columns, cells, strict=True))))
    return rows


def _noun(row: _Row) -> Noun:
    """The noun of a ``nouns.tsv`` row, whose Romance forms must have articles."""
    for lang in _ROMANCE_ARTICLES:
        try:
            romance_gender(row.cells[lang], lang)
        except ValueError as error:
            raise ValueError(f"{row.where}: {error}") from None
    return Noun(
        forms=row.forms(),
        german_gender=row.choice("deu_gender", ("m", "f", "n")),
        tags=row.tags("tags"),
    )


def _adjective(row: _Row) -> Adjective:
    """The adjective of an ``adjectives.tsv`` row."""
    forms: dict[str, tuple[str, str]] = {}
    for lang, cell in row.forms().items():
        if lang in ("eng", "deu"):
            forms[lang] = (cell, cell)
            continue
        masculine, slash, feminine = cell.partition("/")
        if not (masculine and slash and feminine) or "/" in feminine:
            raise ValueError(
                f"{row.where}: {lang} must read masculine/feminine, got {cell!r}"
            )
        forms[lang] = (masculine, feminine)
    return Adjective(
        forms=forms,
        german_attributive=row.cells["deu_attributive"],
        spanish_copula=row.choice("spa_copula", _SPANISH_COPULAS),
        attributive=row.flag("attributive"),
        tags=row.tags("tags"),
    )


def _intransitive_verb(row: _Row) -> Verb:
    """The verb of an ``intransitive_verbs.tsv`` row."""
    return Verb(
        forms=row.forms(),
        subject_tags=row.tags("subject_tags"),
        object_tags=frozenset(),
        locative=row.flag("locative"),
    )


def _transitive_verb(row: _Row) -> Verb:
    """The verb of a ``transitive_verbs.tsv`` row; its subject is a person."""
    return Verb(
        forms=row.forms(),
        subject_tags=frozenset({"person"}),
        object_tags=row.tags("object_tags"),
        locative=True,
    )


def _phrase(row: _Row) -> Phrase:
    """The phrase of an ``adverbs.tsv`` or ``places.tsv`` row."""
    return Phrase(forms=row.forms(), tags=row.tags("tags"))


def load_lexicon(directory: Optional[Traversable] = None) -> Lexicon:
    """Reads and checks the lexicon tables.

    The module's constants hold the packaged tables; reading another folder
    lets a test or an edited copy be checked the same way.

    Args:
        directory: Folder holding every file of :data:`TABLES`, such as a
            :class:`pathlib.Path`; default: the tables shipped with the package.

    Raises:
        FileNotFoundError: If a table is missing.
        ValueError: If a table is malformed; the message names the file and
            line.
    """
    if directory is None:
        directory = files(_PACKAGE) / _TABLES_DIR
    return Lexicon(
        nouns=tuple(map(_noun, _read_table(directory, "nouns.tsv"))),
        adjectives=tuple(map(_adjective, _read_table(directory, "adjectives.tsv"))),
        intransitive_verbs=tuple(
            map(_intransitive_verb, _read_table(directory, "intransitive_verbs.tsv"))
        ),
        transitive_verbs=tuple(
            map(_transitive_verb, _read_table(directory, "transitive_verbs.tsv"))
        ),
        adverbs=tuple(map(_phrase, _read_table(directory, "adverbs.tsv"))),
        places=tuple(map(_phrase, _read_table(directory, "places.tsv"))),
    )


_LEXICON = load_lexicon()

NOUNS: tuple[Noun, ...] = _LEXICON.nouns
"""People, animals, things, food and drinks."""

ADJECTIVES: tuple[Adjective, ...] = _LEXICON.adjectives
"""Adjectives with their agreement forms."""

INTRANSITIVE_VERBS: tuple[Verb, ...] = _LEXICON.intransitive_verbs
"""Verbs used without an object; their subject is a person or an animal."""

TRANSITIVE_VERBS: tuple[Verb, ...] = _LEXICON.transitive_verbs
"""Verbs taking a person as subject and an inanimate direct object."""

ADVERBS: tuple[Phrase, ...] = _LEXICON.adverbs
"""Adverbials that end a sentence; ``time`` ones also fit after an object."""

PLACES: tuple[Phrase, ...] = _LEXICON.places
"""Place adverbials (``in the garden``), with the preposition and article."""
