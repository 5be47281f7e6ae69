"""The one (language, task) a per-context export decodes, checked on every prompt.

A per-context export (``espnet_dynprune.bin.export_context``) is built without the
modules its context closes, so it computes the wrong model for any other
context. Its config records the context as ``decoder_conf.exported_context``; the
gated decoder checks every decoding prompt that ESPnet primes the beam search
with (``[<sop> text_prev...] <sos> <lang> <task> ...``, see
:mod:`espnet_dynprune.tasks.registration`) before anything is encoded.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional, Union

import torch

__all__ = ["ExportedContext", "primer_rows"]

Primer = Union[Sequence[int], Sequence[Sequence[int]], torch.Tensor]


def primer_rows(primer: Primer) -> list[list[int]]:
    """ESPnet's hypothesis primer as one list of token ids per utterance.

    ``Speech2Text`` primes with one primer (token ids), 202611's ``batch_decode``
    with one per utterance.
    """
    if isinstance(primer, torch.Tensor):
        single = primer.dim() == 1
    else:
        single = len(primer) == 0 or not isinstance(
            primer[0], (list, tuple, torch.Tensor)
        )
    rows = [primer] if single else list(primer)
    return [[int(token) for token in row] for row in rows]


@dataclass(frozen=True)
class ExportedContext:
    """The context an export was built for (``decoder_conf.exported_context``).

    Attributes:
        sos_id: token id of ``<sos>``, which the symbols follow in a prompt.
        lang_sym, lang_id: the language symbol and its token id (``None``: the
            gates did not depend on the language).
        task_sym, task_id: likewise for the task.
    """

    sos_id: int
    lang_sym: Optional[str] = None
    lang_id: Optional[int] = None
    task_sym: Optional[str] = None
    task_id: Optional[int] = None

    def check(self, primer: Optional[Primer]) -> None:
        """Refuse a decoding prompt of another context.

        Raises:
            ValueError: a prompt without ``<sos> <lang> <task>`` or with other
                symbols; the message names the context of the export.
        """
        if primer is None:
            return
        for row in primer_rows(primer):
            starts = [i for i, token in enumerate(row) if token == self.sos_id]
            start = starts[-1] if starts else len(row)
            symbols = row[start + 1 : start + 3]
            if len(symbols) < 2 or not self._matches(*symbols):
                raise ValueError(self._refusal())

    def _matches(self, lang_id: int, task_id: int) -> bool:
        return self.lang_id in (None, lang_id) and self.task_id in (None, task_id)

    def _refusal(self) -> str:
        context = " ".join(s for s in (self.lang_sym, self.task_sym) if s)
        symbols = (("lang_sym", self.lang_sym), ("task_sym", self.task_sym))
        wanted = ", ".join(f"{n}={s!r}" for n, s in symbols if s)
        return (
            f"this model is a per-context export for {context} "
            "(decoder_conf.exported_context) and decodes that context only: "
            f"decode with {wanted}, or decode other contexts with the gated "
            "model or their own export"
        )
