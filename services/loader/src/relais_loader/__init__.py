"""Loader: writes transformed DIAMANT and FINESS rows into PostgreSQL, one transaction per file."""

import os

# Arrow buffers (each slice cast to the table's types) from the C library's allocator, which gives large blocks back
# at once, rather than from Arrow's bundled jemalloc, which keeps them for a while: with three files loading at once
# that was ~100 MB of the service's peak RSS. Read by pyarrow at its first allocation, which is after this.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
