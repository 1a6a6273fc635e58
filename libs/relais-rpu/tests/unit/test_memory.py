import tracemalloc
from pathlib import Path

from relais_rpu import Passage, open_rpu, write_oscour
from relais_synthetic.rpu import monthly_file, synthetic_region

MB = 1 << 20


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


def test_parsing_a_50_mb_file_keeps_memory_bounded(tmp_path: Path) -> None:
    region = synthetic_region(99, 3, departements=("67",))
    # A real month (varied passages, quirks of its software) repeated to ~50 MB: generation is not what is tested.
    with open_rpu(monthly_file(region, region.establishments[0], 2024, 1, tmp_path)) as rpu:
        header = rpu.header
        sample = [r for r in rpu if isinstance(r, Passage)]
    path = tmp_path / "big.xml"
    write_oscour(path, header, (sample[i % len(sample)] for i in range(50 * MB // 500)))
    assert path.stat().st_size > 45 * MB

    rss_before = rss_bytes()
    rss_peak = rss_before
    tracemalloc.start()
    count = 0
    with open_rpu(path) as rpu:
        for record in rpu:
            count += isinstance(record, Passage)
            if count % 5000 == 0:
                rss_peak = max(rss_peak, rss_bytes())
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert count > 60_000
    assert peak < 30 * MB  # Python objects: one record at a time
    assert rss_peak - rss_before < 60 * MB  # libxml2's tree (untracked by tracemalloc) is cleared as we go
