"""The fast hex-string reader gives exactly what pyHanko's own reader gives, errors included."""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from typing import Any

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PdfStreamError

from signing.pades.speedups import original_reader, read_hex_string

SAMPLES = [
    b"<>", b"<00>", b"<48656C6C6F>", b"<48 65\n6c\r\n6C\t6f>", b"<ABC>", b"<feff0041>",
    b"<" + b"0" * 40000 + b">", b"<3031> trailing /Name", b"<\x0048>",
]


def _read(reader: Callable[[Any], Any], data: bytes) -> tuple[object, int]:
    stream = io.BytesIO(data)
    value = reader(stream)
    return (type(value), bytes(value.original_bytes)), stream.tell()


@pytest.mark.parametrize("data", SAMPLES)
def test_same_value_type_and_position_as_pyhanko(data: bytes) -> None:
    assert _read(read_hex_string, data) == _read(original_reader(), data)  # type: ignore[arg-type]


@pytest.mark.parametrize("data", [b"<4G>", b"<12", b"<12 /Name>"])
def test_same_refusals_as_pyhanko(data: bytes) -> None:
    with pytest.raises(PdfStreamError):
        _read(original_reader(), data)  # type: ignore[arg-type]
    with pytest.raises(PdfStreamError):
        _read(read_hex_string, data)


def test_random_hex_strings_read_alike() -> None:
    rng = random.Random(7)
    for _ in range(200):
        body = bytes(rng.choice(b"0123456789abcdefABCDEF \n\r\t") for _ in range(rng.randint(0, 300)))
        data = b"<" + body + b">" + bytes(rng.choice(b" /<>()") for _ in range(3))
        assert _read(read_hex_string, data) == _read(original_reader(), data)  # type: ignore[arg-type]


def test_the_fast_reader_is_the_one_pyhanko_uses() -> None:
    import signing.pades  # noqa: F401 - installs it

    assert generic.read_hex_string_from_stream is read_hex_string
