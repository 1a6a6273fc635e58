"""Which partition of a pipeline topic a file goes to: the next service takes one file per partition at a time.

In turn, not by the hash of the file's name (the default), which put four of a national batch's eleven files, the
biggest among them, in one partition, handled one after the other while the other consumers sat idle. Nothing needs
an order among files: the loader orders a source's files by their extraction date.
"""

from __future__ import annotations

import itertools


class InTurn:
    def __init__(self, partitions: int) -> None:
        self._next = itertools.cycle(range(partitions))

    def __call__(self) -> int:
        return next(self._next)
