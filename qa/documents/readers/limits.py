"""What reading one file may cost: how far its compressed parts may inflate, and how many pages
and how much time a PDF may take. A file beyond a limit is refused with the reason, before its
memory use can grow with it.

The inflation rule is Apache POI's ``ZipSecureFile``: a part that inflates to more than
``MAX_RATIO`` times its compressed size is refused once it is past ``GRACE_BYTES`` (POI's
minimum-size allowance), and no part may inflate beyond ``MAX_PART_BYTES``.

* A zip container (.docx) is checked by :func:`check_zip` before any parser opens it: first the
  sizes its members declare (nothing inflated), then each member is inflated chunk by chunk and
  counted, so a member whose data inflates beyond its declared size is refused too (Python's
  ``zipfile`` inflates a whole member at once before it cuts it to the declared size).
* A PDF's streams are inflated by pdfminer whole, with ``zlib.decompress``, as it reads them;
  :func:`bound_pdfminer` gives pdfminer a ``zlib`` that first counts, keeping nothing, how far
  a stream inflates, and LZW and run-length decoders that stop at the limit (images are not
  decoded for text). A PDF may have at most
  ``MAX_PDF_PAGES`` pages and take ``MAX_READ_SECONDS`` to read (:func:`bounded_pages`).
"""

from __future__ import annotations

import io
import struct
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, TypeVar

MAX_RATIO = 100
GRACE_BYTES = 100 * 1024
MAX_PART_BYTES = 256 * 1024 * 1024
MAX_ARCHIVE_BYTES = 512 * 1024 * 1024  # all members of one zip together
MAX_PDF_PAGES = 2000
MAX_READ_SECONDS = 300.0  # per PDF, checked between pages
RUN_LENGTH_MAX_RATIO = 64  # a run-length pair of 2 bytes gives at most 128 (under MAX_RATIO)
_CHUNK = 1 << 20
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")  # a zip member's local header, before its name and extra field
Page = TypeVar("Page")


class TooCostly(ValueError):
    """A file whose reading would cost more than the limits allow; the message says why."""


def inflation_limit(compressed: int) -> int:
    """The most bytes a part of ``compressed`` bytes may inflate to (POI's rule, capped)."""
    return min(MAX_PART_BYTES, max(GRACE_BYTES, MAX_RATIO * compressed))


def _too_far(part: str, compressed: int, inflated: int) -> TooCostly:
    """The refusal of a part that inflates (or declares it inflates) beyond :func:`inflation_limit`."""
    if inflated > MAX_RATIO * compressed:
        return TooCostly(f"{part} inflates more than {MAX_RATIO} times its compressed size "
                         f"({size_text(compressed)} to over {size_text(inflated)}; a decompression bomb?)")
    return TooCostly(f"{part} inflates beyond {size_text(MAX_PART_BYTES)}")


def size_text(size: int) -> str:
    """``size`` bytes for a person: ``50 MB``, ``1.5 MB``, ``5.8 KB``, ``300 bytes``."""
    if size < 1024:
        return f"{size} bytes"
    value, unit = (size / (1024 * 1024), "MB") if size >= 1024 * 1024 else (size / 1024, "KB")
    return f"{value:.1f}".removesuffix(".0") + f" {unit}"


# --- zip containers ------------------------------------------------------------------------------


def check_zip(path: Path) -> None:
    """Refuse a zip container whose members inflate too far (see the module notes).

    Raises :class:`TooCostly`, or :class:`zipfile.BadZipFile` for a file that is not a zip.
    """
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
    for member in members:
        if member.file_size > inflation_limit(member.compress_size):
            raise _too_far(member.filename, member.compress_size, member.file_size)
    declared = sum(member.file_size for member in members)
    if declared > MAX_ARCHIVE_BYTES:
        raise TooCostly(f"its members inflate to {size_text(declared)} together, over {size_text(MAX_ARCHIVE_BYTES)}")
    with path.open("rb") as raw:
        for member in members:
            if member.compress_type == zipfile.ZIP_DEFLATED:
                inflated = _inflated_size(raw, member.header_offset, member.compress_size, member.file_size)
                if inflated > member.file_size:
                    raise TooCostly(f"{member.filename} inflates beyond the {size_text(member.file_size)} it declares")


def _inflated_size(raw: BinaryIO, header_offset: int, compressed: int, declared: int) -> int:
    """How far a deflated member inflates, counted chunk by chunk and stopped just past ``declared``."""
    raw.seek(header_offset)
    header = raw.read(_LOCAL_HEADER.size)
    if len(header) < _LOCAL_HEADER.size:
        return 0  # zipfile's own reading reports the damage
    name_length, extra_length = _LOCAL_HEADER.unpack(header)[-2:]
    raw.seek(header_offset + _LOCAL_HEADER.size + name_length + extra_length)
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    inflated, left = 0, compressed
    try:
        while left > 0 and not inflater.eof:
            data = raw.read(min(_CHUNK, left))
            if not data:
                break
            left -= len(data)
            for piece in _pieces(inflater, data):
                inflated += len(piece)
                if inflated > declared:
                    return inflated
    except zlib.error:
        pass  # damaged data: zipfile's own reading reports it
    return inflated


def _pieces(inflater: zlib._Decompress, data: bytes) -> Iterator[bytes]:
    """``data`` inflated by ``inflater`` in pieces of at most ``_CHUNK`` bytes."""
    while True:
        piece = inflater.decompress(data, _CHUNK)
        yield piece
        data = inflater.unconsumed_tail
        if not data and len(piece) < _CHUNK:  # a full piece may leave output pending
            return


# --- PDF streams ---------------------------------------------------------------------------------


class _BoundedInflater:
    """A ``zlib.decompressobj`` that raises :class:`TooCostly` once its output passes the limit
    for the bytes given to it so far (pdfminer feeds a damaged stream through one, byte by byte)."""

    def __init__(self) -> None:
        self._inflater = zlib.decompressobj()
        self._read = 0
        self._inflated = 0

    def decompress(self, data: bytes) -> bytes:
        self._read += len(data)
        pieces = []
        for piece in _pieces(self._inflater, data):
            self._inflated += len(piece)
            if self._inflated > inflation_limit(self._read):
                raise _too_far("a PDF stream", self._read, self._inflated)
            pieces.append(piece)
        return b"".join(pieces)


class _BoundedZlib:
    """The part of the ``zlib`` module pdfminer uses, bounded."""

    error = zlib.error
    decompressobj = _BoundedInflater

    @staticmethod
    def decompress(data: bytes) -> bytes:
        """``zlib.decompress(data)``, once a first pass that keeps nothing has found its size within the limit."""
        limit, inflated = inflation_limit(len(data)), 0
        for piece in _pieces(zlib.decompressobj(), data):
            inflated += len(piece)
            if inflated > limit:
                raise _too_far("a PDF stream", len(data), inflated)
        return zlib.decompress(data)


def _bounded_lzw(data: bytes) -> bytes:
    from pdfminer.lzw import LZWDecoder

    limit, inflated, pieces = inflation_limit(len(data)), 0, []
    for piece in LZWDecoder(io.BytesIO(data)).run():
        inflated += len(piece)
        if inflated > limit:
            raise _too_far("a PDF stream", len(data), inflated)
        pieces.append(piece)
    return b"".join(pieces)


def _bounded_run_length(decode: Callable[[bytes], bytes]) -> Callable[[bytes], bytes]:
    """``decode`` (pdfminer's, which decodes whole) for streams that cannot pass the ceiling;
    run-length coding cannot pass the ratio."""
    def run_length(data: bytes) -> bytes:
        if RUN_LENGTH_MAX_RATIO * len(data) > MAX_PART_BYTES:
            raise TooCostly(f"a run-length PDF stream of {size_text(len(data))} may inflate beyond {size_text(MAX_PART_BYTES)}")
        return decode(data)

    return run_length


def bound_pdfminer() -> None:
    """Make pdfminer's stream decoding raise :class:`TooCostly` beyond the inflation limit
    (once per process; pdfminer looks these up in its ``pdftypes`` module at each stream)."""
    import pdfminer.pdftypes as pdftypes

    if pdftypes.zlib is _BoundedZlib:
        return
    pdftypes.zlib = _BoundedZlib
    pdftypes.lzwdecode = _bounded_lzw
    pdftypes.rldecode = _bounded_run_length(pdftypes.rldecode)


def bounded_pages(pages: Sequence[Page]) -> Iterator[Page]:
    """The pages of a PDF one by one; raises :class:`TooCostly` when there are more than
    ``MAX_PDF_PAGES`` or reading them has taken over ``MAX_READ_SECONDS`` (checked between pages)."""
    if len(pages) > MAX_PDF_PAGES:
        raise TooCostly(f"it has more than {MAX_PDF_PAGES} pages")
    deadline = time.monotonic() + MAX_READ_SECONDS
    for number, page in enumerate(pages):
        if time.monotonic() > deadline:
            raise TooCostly(f"reading it took over {MAX_READ_SECONDS:.0f} s ({number} of {len(pages)} pages read)")
        yield page
