"""Language and task symbols of a token list, mapped to compact indices.

OWSM-style token lists hold language tokens ``<eng>``, ``<deu>``, ... and task
tokens ``<asr>``, ``<st_eng>``, .... The gate predictor embeds them in small
tables instead of the full vocabulary.
"""

import re
from collections.abc import Sequence

import torch

__all__ = ["ContextVocabulary"]

_LANGUAGE = re.compile(r"^<[a-z]{3}>$")
_TASK = re.compile(r"^<(asr|st_[a-z]{3})>$")
_NOT_LANGUAGES = {"<unk>", "<asr>", "<sop>", "<sos>", "<eos>"}


class ContextVocabulary(torch.nn.Module):
    """Maps token ids of language / task symbols to embedding indices.

    Args:
        token_list: the model's token list.
    """

    def __init__(self, token_list: Sequence[str]) -> None:
        super().__init__()
        self.languages: list[str] = [
            t for t in token_list if _LANGUAGE.match(t) and t not in _NOT_LANGUAGES
        ]
        self.tasks: list[str] = [t for t in token_list if _TASK.match(t)]
        if not self.languages or not self.tasks:
            raise ValueError(
                "token_list must contain language tokens like <eng> and task tokens "
                f"like <asr>, <st_eng>; found languages={self.languages}, "
                f"tasks={self.tasks}"
            )
        self.token_to_id: dict[str, int] = {t: i for i, t in enumerate(token_list)}
        lookup = torch.full((2, len(token_list)), -1, dtype=torch.long)
        for row, symbols in enumerate((self.languages, self.tasks)):
            for index, symbol in enumerate(symbols):
                lookup[row, self.token_to_id[symbol]] = index
        self.register_buffer("lookup", lookup, persistent=False)

    def indices(self, token_ids: torch.Tensor, kind: str) -> torch.Tensor:
        """Embedding indices of ``(B,)`` token ids; ``kind`` is ``lang`` or ``task``.

        Raises:
            ValueError: a token is not a known symbol of that kind (the message
                gives the batch position, never the token itself).
        """
        row = 0 if kind == "lang" else 1
        out = self.lookup[row, token_ids.clamp(min=0)].masked_fill(token_ids < 0, -1)
        bad = (out < 0).nonzero().flatten().tolist()
        if bad:
            known = self.languages if row == 0 else self.tasks
            position = 0 if row == 0 else 1
            raise ValueError(
                f"utterance(s) at batch position {bad}: text token {position} is not "
                f"a {kind} symbol; known: {known}. S2T text must start with "
                "<lang><task> (e.g. <deu><st_eng>)"
            )
        return out

    def symbol_index(self, symbol: str, kind: str) -> int:
        """Embedding index of a symbol such as ``<deu>`` or ``<st_eng>``."""
        known = self.languages if kind == "lang" else self.tasks
        if symbol not in known:
            raise ValueError(f"unknown {kind} symbol {symbol!r}; known: {known}")
        return known.index(symbol)
