"""What poppler (pdftotext, pdftoppm) sees on a page: the check that the PDF reads and renders as intended."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory

WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>')


@dataclass(frozen=True)
class Word:
    """A word as pdftotext extracts it, with its box in PDF space (origin bottom left, points)."""

    text: str
    x1: float
    y1: float
    x2: float
    y2: float

    def inside(self, rect: tuple[float, float, float, float], slack: float = 0.5) -> bool:
        x1, y1, x2, y2 = rect
        return x1 - slack <= self.x1 and self.x2 <= x2 + slack and y1 - slack <= self.y1 and self.y2 <= y2 + slack


@dataclass(frozen=True)
class Raster:
    """A page rendered in grey levels (0 black … 255 white)."""

    width: int
    height: int
    pixels: bytes
    dpi: int

    def at(self, x: int, y: int) -> int:
        return self.pixels[y * self.width + x]

    def to_pixels(self, rect: tuple[float, float, float, float], page_height: float) -> tuple[int, int, int, int]:
        """A rectangle in PDF points as (left, top, right, bottom) pixel bounds."""
        scale = self.dpi / 72
        x1, y1, x2, y2 = rect
        top, bottom = page_height - y2, page_height - y1
        return int(x1 * scale), int(top * scale), int(x2 * scale + 1), int(bottom * scale + 1)


def words(pdf: bytes, page_number: int) -> list[Word]:
    """Words of one page (1-based), from `pdftotext -bbox`."""
    html = subprocess.run(
        ["pdftotext", "-bbox", "-f", str(page_number), "-l", str(page_number), "-", "-"],
        input=pdf, capture_output=True, check=True,
    ).stdout.decode()
    match = re.search(r'<page width="[\d.]+" height="([\d.]+)"', html)
    assert match is not None, html
    height = float(match[1])
    return [Word(w, float(x1), height - float(y2), float(x2), height - float(y1))
            for x1, y1, x2, y2, w in WORD.findall(html)]


def page_text(pdf: bytes, page_number: int) -> str:
    """One page's words joined by spaces, with lines broken after a hyphen joined back."""
    joined = " ".join(w.text for w in words(pdf, page_number))
    return re.sub(r"(?<=\w)- (?=\w)", "-", joined)


def render(pdf: bytes, page_number: int, dpi: int = 100) -> Raster:
    """One page rendered by `pdftoppm -gray` at `dpi`."""
    with TemporaryDirectory() as tmp:
        source = Path(tmp) / "in.pdf"
        source.write_bytes(pdf)
        subprocess.run(
            ["pdftoppm", "-r", str(dpi), "-gray", "-f", str(page_number), "-l", str(page_number), "-singlefile",
             str(source), str(Path(tmp) / "page")],
            check=True, capture_output=True,
        )
        data = (Path(tmp) / "page.pgm").read_bytes()
    header = re.match(rb"P5\s+(\d+)\s+(\d+)\s+255\s", data)
    assert header is not None, data[:20]
    return Raster(int(header[1]), int(header[2]), data[header.end() :], dpi)
