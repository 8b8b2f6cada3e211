"""A local shop-admin web app for the "real applications" bench (see :mod:`tests.support.shop.app`)."""

from tests.support.shop.app import ShopServer, Submission, parse_multipart
from tests.support.shop.variant import (
    CHROMIUM_CHOOSE_FILE,
    CHROMIUM_NO_FILE_CHOSEN,
    FIELDS,
    ShopVariant,
    random_variant,
)

__all__ = [
    "CHROMIUM_CHOOSE_FILE",
    "CHROMIUM_NO_FILE_CHOSEN",
    "FIELDS",
    "ShopServer",
    "ShopVariant",
    "Submission",
    "parse_multipart",
    "random_variant",
]
