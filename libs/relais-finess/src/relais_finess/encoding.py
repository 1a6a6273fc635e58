"""Which text encoding an open-data extract uses: Windows-1252 historically, UTF-8 in recent files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import charset_normalizer

# The extracts are French text from one publisher; letting the detector range over every code page makes it
# pick look-alikes (cp1250, mac_roman) on short samples, which silently corrupts accents.
CANDIDATES = ["utf_8", "cp1252"]
SAMPLE_SIZE = 1 << 20


@dataclass(frozen=True, slots=True)
class DetectedEncoding:
    """The encoding to decode lines with, and the one to fall back to per line when the sample was ASCII only.

    A pure-ASCII sample says nothing about the accents further down, so UTF-8 is tried first (it fails loudly
    on Windows-1252 bytes) and Windows-1252 (which decodes almost any byte) only for lines UTF-8 rejects.
    """

    name: str
    fallback: str | None = None

    def decode(self, raw: bytes) -> str:
        try:
            return raw.decode(self.name)
        except UnicodeDecodeError:
            if self.fallback is None:
                raise
            return raw.decode(self.fallback)


def detect_encoding(path: Path, sample_size: int = SAMPLE_SIZE) -> DetectedEncoding:
    """Detect from the first `sample_size` bytes, cut at the last full line, so memory stays bounded."""
    with path.open("rb") as stream:
        sample = stream.read(sample_size)
    if sample.startswith(b"\xef\xbb\xbf"):
        return DetectedEncoding("utf_8_sig")
    if len(sample) == sample_size and b"\n" in sample:
        # A cut in the middle of a UTF-8 sequence would look like a decoding error.
        sample = sample[: sample.rindex(b"\n") + 1]
    if sample.isascii():
        return DetectedEncoding("utf_8", fallback="cp1252")
    best = charset_normalizer.from_bytes(sample, cp_isolation=CANDIDATES).best()
    if best is None:
        return DetectedEncoding("cp1252")
    return DetectedEncoding(best.encoding)
