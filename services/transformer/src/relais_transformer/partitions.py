"""Which partition of the transformed topic a file goes to: the loader takes one file per partition at a time.

Not the hash of the file's name (the default): it put four of a national batch's eleven files, the biggest among
them, in one partition, loaded one after the other while the other consumers sat idle. Instead, in turn — but the
medico-social files in the first partitions and the others in the last: a medico-social file's load waits for the
recomputation of the derived tables (once for the files loaded together, relais_loader.settling), and the health and
referential files must not queue behind that wait. The loader needs no order among files (a source's files are ordered
by their extraction date).
"""

from __future__ import annotations

import itertools

from relais_diamant.definitions_medico_social import MEDICO_SOCIAL

_MEDICO_SOCIAL = frozenset(definition.source.value for definition in MEDICO_SOCIAL)


class LoaderPartitions:
    def __init__(self, partitions: int) -> None:
        others = max(partitions // 3, 1) if partitions > 1 else 0
        first = partitions - others
        self._medico_social = itertools.cycle(range(first))
        self._others = itertools.cycle(range(first, partitions) if others else range(partitions))

    def __call__(self, source: str | None) -> int:
        return next(self._medico_social if source in _MEDICO_SOCIAL else self._others)
