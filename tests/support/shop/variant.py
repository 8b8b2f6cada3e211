"""What one rendering of the shop admin looks like: language, label texts, layout and theme.

A :class:`ShopVariant` is plain data. The pages in :mod:`tests.support.shop.pages` render from it,
and a test drives the UI by the texts it records (``variant.labels["name"]``,
``variant.texts["publish"]``...), so the same test works on every variant.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Literal

Lang = Literal["en", "zh"]
LabelPlacement = Literal["left", "above", "placeholder"]
FieldStyle = Literal["bordered", "underline", "filled"]
Theme = Literal["light", "dark"]

LANGS: tuple[Lang, ...] = ("en", "zh")
LABEL_PLACEMENTS: tuple[LabelPlacement, ...] = ("left", "above", "placeholder")
FIELD_STYLES: tuple[FieldStyle, ...] = ("bordered", "underline", "filled")
THEMES: tuple[Theme, ...] = ("light", "dark")

#: The form fields, in page order. Keys of :attr:`ShopVariant.labels`; also the form field names.
FIELDS: tuple[str, ...] = ("name", "price", "stock", "category", "description", "image", "featured")

#: What Chromium itself draws in an ``<input type=file>`` when it runs with ``--lang=en-US`` and
#: ``LANG=C.UTF-8`` (as :class:`tests.support.desktop.Chromium` always does), whatever the page's
#: language. With ``--lang=zh-CN`` it would read "选择文件" / "未选择任何文件" instead.
CHROMIUM_CHOOSE_FILE = "Choose File"
CHROMIUM_NO_FILE_CHOSEN = "No file chosen"

#: Synonyms for each form label; :func:`random_variant` picks one per field, ``default`` the first.
LABEL_SYNONYMS: dict[Lang, dict[str, tuple[str, ...]]] = {
    "en": {
        "name": ("Product name", "Title", "Name", "Product title"),
        "price": ("Price", "Sale price", "Unit price"),
        "stock": ("Stock", "Quantity", "Inventory"),
        "category": ("Category", "Collection", "Type"),
        "description": ("Description", "Details", "Product description"),
        "image": ("Main image", "Cover image", "Product image"),
        "featured": ("Featured product", "Show on homepage", "Featured"),
    },
    "zh": {
        "name": ("商品名称", "名称", "标题"),
        "price": ("价格", "售价", "单价"),
        "stock": ("库存", "数量", "库存数量"),
        "category": ("分类", "类目", "商品分类"),
        "description": ("商品描述", "描述", "详情"),
        "image": ("主图", "商品图片", "封面图"),
        "featured": ("推荐商品", "首页展示", "设为推荐"),
    },
}

#: Every other text on the pages. ``default`` uses the first of each tuple, too.
TEXT_CHOICES: dict[Lang, dict[str, tuple[str, ...]]] = {
    "en": {
        "brand": ("ShopAdmin",),
        "nav_dashboard": ("Dashboard",),
        "nav_products": ("Product management", "Products"),
        "nav_orders": ("Orders",),
        "nav_customers": ("Customers",),
        "nav_settings": ("Settings",),
        "products_title": ("Products", "All products"),
        "add_product": ("Add product", "New product", "Create product"),
        "search_placeholder": ("Search products…",),
        "col_product": ("Product",),
        "col_sku": ("SKU",),
        "col_price": ("Price",),
        "col_stock": ("Stock",),
        "col_status": ("Status",),
        "status_active": ("Active",),
        "status_draft": ("Draft",),
        "new_product_title": ("Add a new product", "Create a product"),
        "section_basic": ("Basic information",),
        "section_media": ("Media",),
        "publish": ("Publish", "Publish product"),
        "cancel": ("Cancel",),
        "image_hint": ("PNG or JPG, up to 5 MB",),
        "featured_hint": ("Highlight this product in the storefront",),
        "choose_category": ("Select…",),
        "published": ("Published",),
        "published_message": ("Your product is live in the store.",),
        "back_to_products": ("Back to products",),
        "add_another": ("Add another",),
        "no_image": ("No image",),
        "yes": ("Yes",),
        "no": ("No",),
        "empty_page": ("Nothing here yet.",),
        "breadcrumb_home": ("Home",),
    },
    "zh": {
        "brand": ("店铺后台",),
        "nav_dashboard": ("仪表盘", "概览"),
        "nav_products": ("商品管理",),
        "nav_orders": ("订单", "订单管理"),
        "nav_customers": ("客户",),
        "nav_settings": ("设置",),
        "products_title": ("商品列表", "全部商品"),
        "add_product": ("添加商品", "新建商品"),
        "search_placeholder": ("搜索商品…",),
        "col_product": ("商品",),
        "col_sku": ("货号",),
        "col_price": ("价格",),
        "col_stock": ("库存",),
        "col_status": ("状态",),
        "status_active": ("在售",),
        "status_draft": ("草稿",),
        "new_product_title": ("添加新商品", "创建商品"),
        "section_basic": ("基本信息",),
        "section_media": ("图片",),
        "publish": ("发布", "发布商品"),
        "cancel": ("取消",),
        "image_hint": ("PNG 或 JPG，最大 5 MB",),
        "featured_hint": ("在店铺首页突出显示该商品",),
        "choose_category": ("请选择…",),
        "published": ("已发布",),
        "published_message": ("商品已在店铺上架。",),
        "back_to_products": ("返回商品列表",),
        "add_another": ("继续添加",),
        "no_image": ("无图片",),
        "yes": ("是",),
        "no": ("否",),
        "empty_page": ("暂无内容。",),
        "breadcrumb_home": ("首页",),
    },
}

#: Texts of the form's other buttons. Kept out of :data:`TEXT_CHOICES` so random variants stay as they were.
EXTRA_TEXTS: dict[Lang, dict[str, str]] = {
    "en": {"save_draft": "Save draft", "delete": "Delete", "draft_saved": "Draft saved", "deleted": "Deleted"},
    "zh": {"save_draft": "保存草稿", "delete": "删除", "draft_saved": "草稿已保存", "deleted": "已删除"},
}

CATEGORIES: dict[Lang, tuple[str, ...]] = {
    "en": ("Apparel", "Electronics", "Home & Garden", "Toys", "Books"),
    "zh": ("服装", "数码电子", "家居园艺", "玩具", "图书"),
}

#: (name, sku, price, stock, active) rows of the product table before anything is published.
SEED_PRODUCTS: dict[Lang, tuple[tuple[str, str, str, int, bool], ...]] = {
    "en": (
        ("Linen shirt", "AP-1042", "39.00", 120, True),
        ("Wireless earbuds", "EL-2207", "59.90", 48, True),
        ("Ceramic mug set", "HG-0311", "24.50", 0, False),
        ("Wooden puzzle", "TY-0098", "17.00", 35, True),
    ),
    "zh": (
        ("亚麻衬衫", "AP-1042", "239.00", 120, True),
        ("无线耳机", "EL-2207", "399.00", 48, True),
        ("陶瓷马克杯套装", "HG-0311", "128.00", 0, False),
        ("木质拼图", "TY-0098", "59.00", 35, True),
    ),
}


@dataclass
class ShopVariant:
    """One look of the shop admin. Build it with :meth:`default` or :func:`random_variant`.

    ``labels[f]`` is the visible text for form field ``f`` (see :data:`FIELDS`): a ``<label>``
    left of or above the field, or the field's placeholder when ``label_placement`` is
    ``"placeholder"`` (the file input and the checkbox keep a visible caption even then).
    ``texts`` holds every other visible text (``add_product``, ``publish``, ``nav_products``,
    ``choose_file``, ``no_file_chosen``, ``published``...).
    """

    lang: Lang = "en"
    label_placement: LabelPlacement = "above"
    field_style: FieldStyle = "bordered"
    theme: Theme = "light"
    font_size: int = 14
    sidebar_width: int = 190
    labels: dict[str, str] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    categories: tuple[str, ...] = ()
    seed: int | None = None

    def __post_init__(self) -> None:
        defaults = _pick(self.lang, None)
        self.labels = {**defaults[0], **self.labels}
        self.texts = {**defaults[1], **self.texts}
        if not self.categories:
            self.categories = CATEGORIES[self.lang]
        for key, text in EXTRA_TEXTS[self.lang].items():
            self.texts.setdefault(key, text)
        self.texts.setdefault("choose_file", CHROMIUM_CHOOSE_FILE)
        self.texts.setdefault("no_file_chosen", CHROMIUM_NO_FILE_CHOSEN)

    @classmethod
    def default(cls, lang: Lang = "en") -> ShopVariant:
        """The plain look: labels above bordered fields, light theme, 14 px text, 190 px sidebar."""
        return cls(lang=lang)

    @property
    def html_lang(self) -> str:
        """The ``<html lang>`` attribute for this language."""
        return "zh-CN" if self.lang == "zh" else "en"

    @property
    def seed_products(self) -> tuple[tuple[str, str, str, int, bool], ...]:
        """The product rows shown before anything is published."""
        return SEED_PRODUCTS[self.lang]

    def describe(self) -> str:
        """A one-line summary for test ids and failure messages."""
        return (
            f"{self.lang}/{self.label_placement}/{self.field_style}/{self.theme}/"
            f"{self.font_size}px/sidebar{self.sidebar_width}"
        )


def _pick(lang: Lang, rng: random.Random | None) -> tuple[dict[str, str], dict[str, str]]:
    """Choose one label per field and one text per key (the first of each without ``rng``)."""

    def choose(options: tuple[str, ...]) -> str:
        return options[0] if rng is None else rng.choice(options)

    for _ in range(100):
        labels = {key: choose(options) for key, options in LABEL_SYNONYMS[lang].items()}
        texts = {key: choose(options) for key, options in TEXT_CHOICES[lang].items()}
        if _labels_are_distinct(labels):
            return labels, texts
    raise AssertionError("no distinct label choice found")  # pragma: no cover - the first picks are distinct


def _labels_are_distinct(labels: dict[str, str]) -> bool:
    """No label is a substring of another (so finding a field by its label is never ambiguous)."""
    values = [v.casefold() for v in labels.values()]
    return not any(a != b and a in b for a in values for b in values) and len(set(values)) == len(values)


def random_variant(seed: int) -> ShopVariant:
    """A reproducible random look: language, label texts, placement, field style, theme, sizes."""
    rng = random.Random(seed)
    lang: Lang = rng.choice(LANGS)
    labels, texts = _pick(lang, rng)
    font_size = rng.randint(13, 17)
    # Narrow enough that "Product management" wraps onto two lines, wide enough that the bold
    # word "management" (about 7.4 x font size in DejaVu Sans Bold) plus icon and paddings fits.
    widths = [w for w in (170, 180, 190, 200, 220) if w >= round(7.5 * font_size) + 76]
    return ShopVariant(
        lang=lang,
        label_placement=rng.choice(LABEL_PLACEMENTS),
        field_style=rng.choice(FIELD_STYLES),
        theme=rng.choice(THEMES),
        font_size=font_size,
        sidebar_width=rng.choice(widths),
        labels=labels,
        texts=texts,
        seed=seed,
    )
