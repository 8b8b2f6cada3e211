"""The publish task's product, shared by tests/e2e/test_real_apps.py and bench/real_apps.py."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

NAME = {"en": "Wireless Bluetooth headset", "zh": "无线蓝牙耳机"}
"""The product's name, per shop language."""
PRICE, STOCK = "299", "100"


def headset_image(folder: Path) -> Path:
    """A small product photo made in code (a JPEG, as the walkthrough's ./images/headset.jpg)."""
    path = folder / "images" / "headset.jpg"
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", (320, 240), (236, 239, 244))
    draw = ImageDraw.Draw(image)
    draw.arc((90, 40, 230, 180), 180, 360, fill=(46, 52, 64), width=14)
    draw.rounded_rectangle((70, 110, 120, 190), radius=12, fill=(94, 129, 172))
    draw.rounded_rectangle((200, 110, 250, 190), radius=12, fill=(94, 129, 172))
    image.save(path, quality=90)
    return path
