"""Language and task symbols of a token list, mapped to compact indices.

The gate predictor embeds the utterance's language and task symbols in small
tables instead of the full vocabulary. Which tokens are language and task
symbols is read from the layout of ESPnet's S2T token lists, not from the
spelling of the symbols, so ``<eng>``/``<st_eng>`` (OWSM v3), ``<en>``/``<st_en>``
(OWSM v1, ESPnet's mini_an4 recipe), ``<zh-cn>``, ``<yue>`` or tasks such as
``<pr>`` all work when the token list declares them.

The layout (``local/generate_nlsyms.py`` of ESPnet's S2T recipes writes the
special symbols in this order; ``s2t.sh`` puts ``<blank>``, ``<unk>`` first and
``<sos>``, ``<eos>``, ``<sop>`` last)::

    <blank> <unk> <na> <nospeech>|<nolang>   leading specials
    <abk> ... <zul>                          languages: one contiguous block
    <asr> <st_ara> ... <st_zho>              tasks: from the first task on
    <notimestamps> <0.00> ... <30.00>        no-timestamp and time symbols
    ▁the ... <sos> <eos> <sop>               text pieces, then the specials

The rule:

* **tasks** are the tokens from the first task symbol (``<asr>``, or a
  ``<st_...>`` symbol in a translation-only list) up to ``<notimestamps>``
  (excluded), in token-list order;
* **languages** are the contiguous run of ``<...>`` symbols just before the
  first task, back to the leading specials (``<blank>``, ``<unk>``, ``<na>``,
  ``<nospeech>``, ``<nolang>``, ``<sos>``, ``<eos>``, ``<sop>``,
  ``<sos/eos>``) or to a token that is no ``<...>`` symbol, in token-list order.

A symbol's embedding index is its position among the languages (or tasks), so
it follows the token list; for every list that the former 3-letter rule read
(``<xxx>`` languages, ``<asr>`` / ``<st_xxx>`` tasks) the vocabulary is
unchanged. A list without ``<notimestamps>``, without a task symbol before it
or without a language before the first task is refused, naming what is missing.

ESPnet relies on the same layout: ``Speech2Language`` takes the languages as the
contiguous slice ``token_list[first_lang_id : last_lang_id + 1]``
(``espnet2/bin/s2t_inference_language.py``); the S2T preprocessor and
``Speech2Text`` find ``<notimestamps>`` and the time symbols by name
(``preprocessor_conf.notime_symbol``, ``first_time_symbol``) and read the first
two text tokens as ``<lang><task>``; ``Speech2Text`` defaults to ``<asr>``.
"""

import re
from collections.abc import Sequence

import torch

__all__ = [
    "NON_CONTEXT_SYMBOLS",
    "ContextVocabulary",
    "bracketed",
    "declared_symbols",
]

NON_CONTEXT_SYMBOLS = frozenset(
    {
        "<blank>",
        "<unk>",
        "<na>",
        "<nospeech>",
        "<nolang>",
        "<sos>",
        "<eos>",
        "<sop>",
        "<sos/eos>",
    }
)
"""ESPnet's special symbols that are neither a language nor a task."""

_SYMBOL = re.compile(r"^<[^<>\s]+>$")
_TIME = re.compile(r"^<\d+(\.\d+)?>$")
_KINDS = ("lang", "task")


def bracketed(symbol: str) -> str:
    """``deu`` or ``<deu>`` -> ``<deu>``: symbols as the token list spells them.

    ``<`` and ``>`` are awkward in shells, so every entry point takes both forms.
    """
    return f"<{symbol.strip().lstrip('<').rstrip('>')}>"


def _is_first_task(token: str, first_task_symbol: str) -> bool:
    return token == first_task_symbol or token.startswith("<st_")


def _is_context_symbol(token: str) -> bool:
    return (
        bool(_SYMBOL.match(token))
        and token not in NON_CONTEXT_SYMBOLS
        and not _TIME.match(token)
    )


def declared_symbols(
    token_list: Sequence[str],
    notime_symbol: str = "<notimestamps>",
    first_task_symbol: str = "<asr>",
) -> tuple[list[str], list[str]]:
    """``(languages, tasks)`` that a token list declares in ESPnet's S2T layout.

    See the module docstring for the rule.

    Raises:
        ValueError: the layout is broken; the message names what is missing.
    """
    tokens = list(token_list)
    if notime_symbol not in tokens:
        raise ValueError(
            f"token_list has no {notime_symbol}: the S2T layout puts the task "
            f"symbols ({first_task_symbol}, <st_...>) just before it"
        )
    notime = tokens.index(notime_symbol)
    first_task = next(
        (i for i in range(notime) if _is_first_task(tokens[i], first_task_symbol)),
        None,
    )
    if first_task is None:
        raise ValueError(
            f"token_list has no task symbol before {notime_symbol}: expected "
            f"{first_task_symbol} (or <st_...>) after the language symbols"
        )
    tasks = tokens[first_task:notime]
    for offset, task in enumerate(tasks):
        if not _is_context_symbol(task):
            raise ValueError(
                f"token_list[{first_task + offset}] = {task!r} lies between the "
                f"first task symbol {tokens[first_task]!r} and {notime_symbol} "
                "but is no task symbol"
            )
    start = first_task
    while start > 0 and _is_context_symbol(tokens[start - 1]):
        start -= 1
    languages = tokens[start:first_task]
    if not languages:
        before = (
            f"token_list[{first_task - 1}] = {tokens[first_task - 1]!r}"
            if first_task > 0
            else "nothing"
        )
        raise ValueError(
            "token_list has no language symbols before the first task symbol "
            f"{tokens[first_task]!r} (before it: {before}); the S2T layout puts "
            "them between the leading specials (<blank>, <unk>, <na>, ...) and "
            "the tasks"
        )
    return languages, tasks


class ContextVocabulary(torch.nn.Module):
    """Maps token ids of language / task symbols to embedding indices.

    Args:
        token_list: the model's token list, in ESPnet's S2T layout.
        notime_symbol: the no-timestamp symbol that ends the task symbols.
        first_task_symbol: the task symbol that starts the task symbols.
    Raises:
        ValueError: the token list's layout is broken (names what is missing).
    """

    def __init__(
        self,
        token_list: Sequence[str],
        *,
        notime_symbol: str = "<notimestamps>",
        first_task_symbol: str = "<asr>",
    ) -> None:
        super().__init__()
        self.languages: list[str]
        self.tasks: list[str]
        self.languages, self.tasks = declared_symbols(
            token_list, notime_symbol, first_task_symbol
        )
        self.token_to_id: dict[str, int] = {t: i for i, t in enumerate(token_list)}
        lookup = torch.full((2, len(token_list)), -1, dtype=torch.long)
        for row, symbols in enumerate((self.languages, self.tasks)):
            for index, symbol in enumerate(symbols):
                lookup[row, self.token_to_id[symbol]] = index
        self.register_buffer("lookup", lookup, persistent=False)

    def known(self, kind: str) -> list[str]:
        """The symbols of one kind (``lang`` or ``task``), in index order."""
        if kind not in _KINDS:
            raise ValueError(f"kind must be one of {list(_KINDS)}, got {kind!r}")
        return self.languages if kind == "lang" else self.tasks

    def indices(self, token_ids: torch.Tensor, kind: str) -> torch.Tensor:
        """Embedding indices of ``(B,)`` token ids; ``kind`` is ``lang`` or ``task``.

        Raises:
            ValueError: a token is not a known symbol of that kind (the message
                gives the batch position, never the token itself).
        """
        known = self.known(kind)
        row = _KINDS.index(kind)
        out = self.lookup[row, token_ids.clamp(min=0)].masked_fill(token_ids < 0, -1)
        bad = (out < 0).nonzero().flatten().tolist()
        if bad:
            raise ValueError(
                f"utterance(s) at batch position {bad}: text token {row} is not "
                f"a {kind} symbol; known: {known}. S2T text must start with "
                f"<lang><task> (e.g. {self.languages[0]}{self.tasks[0]})"
            )
        return out

    def symbol_index(self, symbol: str, kind: str) -> int:
        """Embedding index of a symbol such as ``<deu>`` or ``<st_eng>``.

        The symbol is spelled as in the token list, brackets included (as
        ESPnet's ``Speech2Text`` takes ``lang_sym`` / ``task_sym``).

        Raises:
            ValueError: an unknown symbol of that kind; the message names it
                and lists the known ones.
        """
        known = self.known(kind)
        if symbol in known:
            return known.index(symbol)
        hint = ""
        other = "task" if kind == "lang" else "lang"
        if symbol in self.known(other):
            hint = f" ({symbol!r} is a {other} symbol)"
        elif isinstance(symbol, str) and f"<{symbol}>" in known:
            hint = f" (did you mean '<{symbol}>'?)"
        raise ValueError(f"unknown {kind} symbol {symbol!r}; known: {known}{hint}")
