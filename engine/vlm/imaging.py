"""Image preparation for the model: resize to the pixel budget, encode, wrap as a data URL."""

from __future__ import annotations

import base64

from PIL import Image

from engine.geometry import fit_to_budget
from engine.vlm.png import StripPngEncoder

_ENCODER = StripPngEncoder()
"""One encoder for the process: it remembers the last image's strips, and consecutive screens share most."""


def encode_png(image: Image.Image) -> bytes:
    """Lossless PNG bytes of ``image`` (UI text must survive), encoded in parallel strips, unchanged strips reused."""
    return _ENCODER.encode(image)


def prepare_for_model(image: Image.Image, max_pixels: int) -> tuple[bytes, tuple[int, int]]:
    """Shrink ``image`` to the model's pixel budget (sides multiples of 32) and encode it as PNG.

    Images within the budget go as they are: the server rounds their sides to multiples of 32
    itself, and the 0-1000 grid is relative, so neither size changes how answers map back.
    Returns the PNG bytes and the size sent.
    """
    if image.width * image.height > max_pixels:
        image = image.resize(fit_to_budget(image.width, image.height, max_pixels), Image.Resampling.LANCZOS)
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    return encode_png(image), image.size


def png_data_url(png: bytes) -> str:
    """A ``data:image/png;base64,...`` URL, the only image form SGLang reads from the client."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def thumbnail_for_client(image: Image.Image, *, max_side: int, max_pixels: int) -> Image.Image:
    """Scale a screenshot down to the host's image budget (hosts resize anything larger themselves)."""
    scale = min(1.0, max_side / max(image.size), (max_pixels / (image.width * image.height)) ** 0.5)
    if scale >= 1.0:
        return image
    size = (max(1, int(image.width * scale)), max(1, int(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)
