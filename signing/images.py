"""Uploaded pictures judged by decoding them whole: a truncated, damaged or disguised file fails here, not in
someone's viewer later."""

from __future__ import annotations

import io

from PIL import Image

__all__ = ["image_problem"]


def image_problem(data: bytes, expected_format: str, max_pixels: int) -> str | None:
    """None when `data` decodes whole as `expected_format` (Pillow's name: "JPEG", "PNG") within `max_pixels`;
    otherwise `type` (another format) or `corrupt` (unreadable, or too many pixels to decode safely)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != expected_format:
                return "type"
            if image.width * image.height > max_pixels:
                return "corrupt"
            image.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
    except Exception:  # Pillow raises many kinds of error on hostile input; all mean "not a readable image"
        return "corrupt"
    return None
