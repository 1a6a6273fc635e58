"""Transformer: parses and normalises DIAMANT files into the indicator schema."""

import os

# Polars, read when it is first imported, which is after this (an operator's own setting wins):
# - one thread per file: files are transformed one at a time per partition, beside the other services on the same
#   cores; polars' idle threads spin while waiting for work, which cost a fifth more CPU on a national batch
#   (measured 3.6 s against 4.2 s) for no shorter batch once every core is busy;
# - its allocator (jemalloc) gives memory freed by a finished file back after 0.1 s instead of about a second:
#   with files transformed one after another, the service's peak RSS was the sum of two files' (~300 MB vs ~220 MB).
os.environ.setdefault("POLARS_MAX_THREADS", "1")
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:100,muzzy_decay_ms:0")
