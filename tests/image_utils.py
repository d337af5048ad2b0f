"""Checking the PNG charts the reports draw."""

from __future__ import annotations

from pathlib import Path

from PIL import Image


def assert_png(path: Path) -> None:
    """``path`` is a whole PNG image with pixels."""
    assert path.stat().st_size > 0
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        assert image.format == "PNG" and image.width > 0 and image.height > 0
