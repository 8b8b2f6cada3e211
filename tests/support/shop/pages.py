"""The shop admin's HTML: plain pages with inline CSS, no external resources.

Each page runs one small script, :data:`REPORT_SCRIPT`: it sends the page's element geometry
(``getBoundingClientRect`` in screen pixels), the fields' values and the chosen files to the
server (``POST /_geometry``) on load and after every input, so a stand-in model can plan from the
real layout. It changes nothing on the page.

Every page has the same chrome: a sidebar (brand and navigation) and a top bar with a breadcrumb,
then a content area with cards. :func:`render_products`, :func:`render_new_product`,
:func:`render_published` and :func:`render_placeholder` return whole documents as ``str``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from tests.support.shop.variant import ShopVariant

FONT_STACK = '"DejaVu Sans", "WenQuanYi Zen Hei", sans-serif'

#: Navigation entries: (text key, href). "Product management" is the active one on product pages.
NAV = (
    ("nav_dashboard", "/dashboard"),
    ("nav_products", "/products"),
    ("nav_orders", "/orders"),
    ("nav_customers", "/customers"),
    ("nav_settings", "/settings"),
)

# Small line icons for the navigation (inline SVG paths, 20x20 viewBox).
ICONS = {
    "nav_dashboard": "M3 3h6v8H3zM11 3h6v5h-6zM11 10h6v7h-6zM3 13h6v4H3z",
    "nav_products": "M3 6l7-3 7 3v8l-7 3-7-3zM3 6l7 3 7-3M10 9v8",
    "nav_orders": "M4 3h12v14H4zM7 7h6M7 10h6M7 13h4",
    "nav_customers": "M10 9a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM4 17c0-3 3-5 6-5s6 2 6 5",
    "nav_settings": "M10 13a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM10 2v3M10 15v3M2 10h3M15 10h3",
}

PALETTES: dict[str, dict[str, str]] = {
    "light": {
        "page": "#f8fafc",
        "sidebar": "#ffffff",
        "sidebar_border": "#e2e8f0",
        "card": "#ffffff",
        "card_border": "#e2e8f0",
        "text": "#0f172a",
        "muted": "#64748b",
        "primary": "#2563eb",
        "primary_text": "#ffffff",
        "active_bg": "#eff6ff",
        "field_bg": "#ffffff",
        "field_border": "#cbd5e1",
        "filled_bg": "#f1f5f9",
        "row_border": "#f1f5f9",
        "chip_ok_bg": "#dcfce7",
        "chip_ok": "#166534",
        "chip_off_bg": "#f1f5f9",
        "chip_off": "#475569",
        "shadow": "0 1px 2px rgba(15, 23, 42, 0.06)",
        "scheme": "light",
    },
    "dark": {
        "page": "#0b1220",
        "sidebar": "#111827",
        "sidebar_border": "#1f2937",
        "card": "#1e293b",
        "card_border": "#334155",
        "text": "#e2e8f0",
        "muted": "#94a3b8",
        "primary": "#3b82f6",
        "primary_text": "#ffffff",
        "active_bg": "#1e3a8a",
        "field_bg": "#0f172a",
        "field_border": "#475569",
        "filled_bg": "#273449",
        "row_border": "#334155",
        "chip_ok_bg": "#14532d",
        "chip_ok": "#bbf7d0",
        "chip_off_bg": "#334155",
        "chip_off": "#cbd5e1",
        "shadow": "0 1px 2px rgba(0, 0, 0, 0.4)",
        "scheme": "dark",
    },
}


def _field_css(v: ShopVariant, p: Mapping[str, str]) -> str:
    """CSS for inputs, selects and textareas in the variant's field style."""
    common = (
        f"font: inherit; color: {p['text']}; padding: 8px 10px; width: 100%; box-sizing: border-box; outline: none;"
    )
    if v.field_style == "bordered":
        look = f"background: {p['field_bg']}; border: 1px solid {p['field_border']}; border-radius: 6px;"
        focus = f"border-color: {p['primary']}; box-shadow: 0 0 0 3px {p['primary']}33;"
    elif v.field_style == "underline":
        look = (
            f"background: transparent; border: 0; border-bottom: 1px solid {p['field_border']};"
            " border-radius: 0; padding-left: 2px; padding-right: 2px;"
        )
        focus = f"border-bottom: 2px solid {p['primary']}; padding-bottom: 7px;"
    else:  # filled
        look = (
            f"background: {p['filled_bg']}; border: 0; border-bottom: 1px solid {p['field_border']};"
            " border-radius: 6px 6px 0 0;"
        )
        focus = f"border-bottom: 2px solid {p['primary']}; padding-bottom: 7px;"
    return (
        f".field {{ {common} {look} }}\n"
        f".field:focus {{ {focus} }}\n"
        f".field::placeholder {{ color: {p['muted']}; opacity: 1; }}\n"
        "textarea.field { min-height: 96px; resize: vertical; }\n"
        "select.field { padding-right: 28px; }\n"
    )


def _css(v: ShopVariant) -> str:
    p = PALETTES[v.theme]
    label_width = round(v.font_size * 9.5)
    return f"""
:root {{ color-scheme: {p["scheme"]}; }}
* {{ box-sizing: border-box; }}
html, body {{ margin: 0; height: 100%; }}
body {{ font-family: {FONT_STACK}; font-size: {v.font_size}px; line-height: 1.45; color: {p["text"]};
  background: {p["page"]}; display: flex; }}
a {{ color: {p["primary"]}; text-decoration: none; }}
.sidebar {{ width: {v.sidebar_width}px; flex: none; background: {p["sidebar"]};
  border-right: 1px solid {p["sidebar_border"]}; padding: 18px 12px; min-height: 100vh; }}
.brand {{ display: flex; align-items: center; gap: 10px; font-weight: 700; font-size: 1.1em;
  padding: 0 8px 20px; }}
.logo {{ width: 26px; height: 26px; border-radius: 8px; background: {p["primary"]}; flex: none; }}
.nav a {{ display: flex; align-items: flex-start; gap: 10px; padding: 9px 10px; border-radius: 8px;
  color: {p["muted"]}; margin-bottom: 2px; overflow-wrap: break-word; }}
.nav span {{ min-width: 0; }}
.nav a.active {{ background: {p["active_bg"]}; color: {p["primary"] if v.theme == "light" else "#ffffff"};
  font-weight: 600; }}
.nav svg {{ width: 18px; height: 18px; flex: none; margin-top: 1px; fill: none; stroke: currentColor;
  stroke-width: 1.6; stroke-linejoin: round; stroke-linecap: round; }}
.main {{ flex: 1; min-width: 0; }}
.topbar {{ height: 56px; display: flex; align-items: center; justify-content: space-between;
  padding: 0 28px; border-bottom: 1px solid {p["sidebar_border"]}; background: {p["sidebar"]}; }}
.crumbs {{ color: {p["muted"]}; }}
.crumbs b {{ color: {p["text"]}; font-weight: 600; }}
.avatar {{ width: 32px; height: 32px; border-radius: 50%; background: {p["card_border"]}; }}
.content {{ padding: 24px 28px; max-width: 1100px; }}
.head {{ display: flex; align-items: center; justify-content: space-between; margin-bottom: 18px; }}
h1 {{ font-size: 1.55em; margin: 0; font-weight: 650; }}
h2 {{ font-size: 1.05em; margin: 0 0 16px; font-weight: 600; }}
.card {{ background: {p["card"]}; border: 1px solid {p["card_border"]}; border-radius: 10px;
  box-shadow: {p["shadow"]}; padding: 22px 24px; margin-bottom: 18px; }}
.btn {{ display: inline-block; font: inherit; font-weight: 600; padding: 9px 18px; border-radius: 8px;
  border: 1px solid transparent; cursor: pointer; }}
.btn-primary {{ background: {p["primary"]}; color: {p["primary_text"]}; }}
.btn-ghost {{ background: transparent; color: {p["text"]}; border-color: {p["card_border"]}; }}
.btn-danger {{ background: transparent; color: #dc2626; border-color: #fca5a5; }}
.search {{ width: 280px; }}
table {{ width: 100%; border-collapse: collapse; }}
th {{ text-align: left; font-weight: 600; color: {p["muted"]}; font-size: 0.9em; padding: 10px 12px;
  border-bottom: 1px solid {p["card_border"]}; }}
td {{ padding: 12px; border-bottom: 1px solid {p["row_border"]}; }}
tr:last-child td {{ border-bottom: 0; }}
.thumb {{ display: inline-block; width: 32px; height: 32px; border-radius: 6px; vertical-align: middle;
  margin-right: 10px; }}
.chip {{ display: inline-block; padding: 2px 10px; border-radius: 999px; font-size: 0.85em; }}
.chip-ok {{ background: {p["chip_ok_bg"]}; color: {p["chip_ok"]}; }}
.chip-off {{ background: {p["chip_off_bg"]}; color: {p["chip_off"]}; }}
.toolbar {{ display: flex; justify-content: space-between; margin-bottom: 14px; }}
.form-row {{ margin-bottom: 18px; }}
.form-row.left {{ display: grid; grid-template-columns: {label_width}px minmax(0, 460px); column-gap: 16px;
  align-items: center; }}
.form-row.left.top {{ align-items: start; }}
.form-row.left.top > label {{ padding-top: 8px; }}
.form-row.left > label {{ text-align: right; }}
.form-row.above > label {{ display: block; margin-bottom: 6px; font-weight: 600; }}
.form-row.above, .form-row.plain {{ max-width: 460px; }}
.pair {{ display: grid; grid-template-columns: 1fr 1fr; column-gap: 20px; max-width: 460px; }}
.pair .form-row {{ max-width: none; }}
.caption {{ display: block; margin-bottom: 6px; font-weight: 600; }}
.hint {{ color: {p["muted"]}; font-size: 0.85em; margin-top: 6px; }}
.columns {{ display: grid; grid-template-columns: minmax(0, 1fr) 320px; column-gap: 18px; align-items: start; }}
.head-actions {{ display: flex; gap: 10px; }}
.check {{ display: flex; align-items: center; gap: 8px; }}
.check input {{ width: 16px; height: 16px; margin: 0; accent-color: {p["primary"]}; }}
input[type=file] {{ font: inherit; color: {p["muted"]}; max-width: 100%; }}
input[type=file]::file-selector-button {{ font: inherit; margin-right: 12px; padding: 7px 14px;
  border-radius: 6px; border: 1px solid {p["field_border"]}; background: {p["card"]}; color: {p["text"]};
  cursor: pointer; }}
.actions {{ display: flex; gap: 10px; }}
dl {{ display: grid; grid-template-columns: max-content 1fr; gap: 10px 24px; margin: 0; }}
dt {{ color: {p["muted"]}; }}
dd {{ margin: 0; }}
.banner {{ display: flex; gap: 12px; align-items: center; }}
.tick {{ width: 36px; height: 36px; border-radius: 50%; background: {p["chip_ok_bg"]}; color: {p["chip_ok"]};
  display: flex; align-items: center; justify-content: center; font-weight: 700; }}
{_field_css(v, p)}"""


def _nav(v: ShopVariant, active: str) -> str:
    items = []
    for key, href in NAV:
        cls = ' class="active"' if key == active else ""
        icon = f'<svg viewBox="0 0 20 20"><path d="{ICONS[key]}"/></svg>'
        items.append(f'<a href="{href}"{cls}>{icon}<span>{escape(v.texts[key])}</span></a>')
    return "\n".join(items)


REPORT_SCRIPT = """
(function () {
  function text(el) {
    if (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT") {
      var label = el.id && document.querySelector('label[for="' + el.id + '"]');
      return (label ? label.textContent : el.placeholder || "").trim();
    }
    return (el.innerText || el.textContent || "").trim().slice(0, 200);
  }
  function report(reason) {
    // Right after a navigation Chromium may not know its outer size yet (0): the offsets would come out
    // minus a screen's width and height. Report once it does.
    if (!window.outerWidth || !window.outerHeight) {
      setTimeout(function () { report(reason); }, 50);
      return;
    }
    // Screen pixels: the window's position plus the browser's own frame above and left of the page.
    var left = window.screenX + (window.outerWidth - window.innerWidth);
    var top = window.screenY + (window.outerHeight - window.innerHeight);
    var elements = [];
    document.querySelectorAll("a, button, input, select, textarea, label, h1, h2").forEach(function (el) {
      var r = el.getBoundingClientRect();
      if (!r.width || !r.height) return;
      elements.push({
        tag: el.tagName.toLowerCase(), type: el.type || null, id: el.id || null, name: el.name || null,
        text: text(el), value: "value" in el && el.type !== "file" ? el.value : null,
        files: el.files ? Array.prototype.map.call(el.files, function (f) { return f.name; }) : null,
        box: [Math.round(left + r.left), Math.round(top + r.top), Math.round(left + r.right) - 1,
              Math.round(top + r.bottom) - 1]
      });
    });
    var body = JSON.stringify({page: document.body.dataset.page, path: location.pathname, reason: reason,
      focused: document.activeElement ? document.activeElement.id || null : null, elements: elements});
    fetch("/_geometry", {method: "POST", body: body, keepalive: true, headers: {"Content-Type": "application/json"}});
  }
  window.addEventListener("load", function () { report("load"); });
  window.addEventListener("resize", function () { report("resize"); });
  document.addEventListener("input", function () { report("input"); }, true);
  document.addEventListener("change", function () { report("change"); }, true);
})();
"""


def page(
    v: ShopVariant,
    title: str,
    body: str,
    *,
    active: str = "nav_products",
    crumbs: Sequence[str] = (),
    name: str = "page",
) -> str:
    """A whole document: sidebar, top bar with a breadcrumb, and ``body`` in the content area."""
    trail = [escape(v.texts["breadcrumb_home"]), *(escape(c) for c in crumbs[:-1])]
    last = f"<b>{escape(crumbs[-1])}</b>" if crumbs else ""
    crumb_html = " / ".join([*trail, last] if last else trail)
    favicon = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E"
    return f"""<!DOCTYPE html>
<html lang="{v.html_lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="google" content="notranslate">
<link rel="icon" href="{favicon}">
<title>{escape(title)} · {escape(v.texts["brand"])}</title>
<style>{_css(v)}</style>
</head>
<body data-page="{name}">
<aside class="sidebar">
<div class="brand"><span class="logo"></span><span>{escape(v.texts["brand"])}</span></div>
<nav class="nav">
{_nav(v, active)}
</nav>
</aside>
<div class="main">
<header class="topbar"><div class="crumbs">{crumb_html}</div><div class="avatar"></div></header>
<main class="content">
{body}
</main>
</div>
<script>{REPORT_SCRIPT}</script>
</body>
</html>
"""


THUMB_COLOURS = ("#fca5a5", "#93c5fd", "#fcd34d", "#86efac", "#c4b5fd", "#f9a8d4")


def render_products(v: ShopVariant, products: Sequence[tuple[str, str, str, int, bool]]) -> str:
    """The product list: a toolbar with search and "Add product", and a table of ``products``."""
    t = v.texts
    rows = []
    for i, (name, sku, price, stock, active) in enumerate(products):
        chip = (
            f'<span class="chip chip-ok">{escape(t["status_active"])}</span>'
            if active
            else f'<span class="chip chip-off">{escape(t["status_draft"])}</span>'
        )
        colour = THUMB_COLOURS[i % len(THUMB_COLOURS)]
        rows.append(
            f'<tr><td><span class="thumb" style="background:{colour}"></span>{escape(name)}</td>'
            f"<td>{escape(sku)}</td><td>{escape(price)}</td><td>{stock}</td><td>{chip}</td></tr>"
        )
    body = f"""<div class="head"><h1>{escape(t["products_title"])}</h1>
<a class="btn btn-primary" href="/products/new">{escape(t["add_product"])}</a></div>
<section class="card">
<div class="toolbar"><input class="field search" type="search" name="q" autocomplete="off"
 placeholder="{escape(t["search_placeholder"])}"></div>
<table>
<thead><tr><th>{escape(t["col_product"])}</th><th>{escape(t["col_sku"])}</th><th>{escape(t["col_price"])}</th>
<th>{escape(t["col_stock"])}</th><th>{escape(t["col_status"])}</th></tr></thead>
<tbody>
{"".join(rows)}
</tbody>
</table>
</section>"""
    return page(v, t["products_title"], body, crumbs=[t["nav_products"]], name="products")


def _control(v: ShopVariant, name: str) -> str:
    """The form control for field ``name`` (placeholder carries the label in placeholder mode)."""
    label = v.labels[name]
    ph = f' placeholder="{escape(label)}"' if v.label_placement == "placeholder" else ""
    if name == "name":
        return f'<input class="field" type="text" id="name" name="name"{ph}>'
    if name == "price":
        return f'<input class="field" type="text" inputmode="decimal" id="price" name="price"{ph}>'
    if name == "stock":
        return f'<input class="field" type="number" min="0" step="1" id="stock" name="stock"{ph}>'
    if name == "description":
        return f'<textarea class="field" id="description" name="description" rows="4"{ph}></textarea>'
    if name == "category":
        first = escape(label if v.label_placement == "placeholder" else v.texts["choose_category"])
        options = "".join(f"<option>{escape(c)}</option>" for c in v.categories)
        return (
            f'<select class="field" id="category" name="category">'
            f'<option value="" selected disabled>{first}</option>{options}</select>'
        )
    raise KeyError(name)


def _row(v: ShopVariant, name: str) -> str:
    """One labelled field in the variant's label placement."""
    control = _control(v, name)
    label = escape(v.labels[name])
    if v.label_placement == "left":
        top = " top" if name == "description" else ""
        return f'<div class="form-row left{top}"><label for="{name}">{label}</label>{control}</div>'
    if v.label_placement == "above":
        return f'<div class="form-row above"><label for="{name}">{label}</label>{control}</div>'
    return f'<div class="form-row plain">{control}</div>'


def render_new_product(v: ShopVariant) -> str:
    """The "add product" form; it posts multipart/form-data to ``/products``.

    Two columns: a "basic information" card with the text fields, select and textarea (in the
    variant's label placement), and a narrower "media" card with the file input (its caption
    always above it, also in placeholder mode) and the checkbox. "Cancel" and "Publish" sit in
    the page header, so the whole form fits on a 1366x768 screen without scrolling.
    """
    t, lab = v.texts, v.labels
    if v.label_placement == "left":
        fields = "".join(_row(v, n) for n in ("name", "price", "stock", "category", "description"))
    else:
        fields = (
            _row(v, "name")
            + f'<div class="pair">{_row(v, "price")}{_row(v, "stock")}</div>'
            + _row(v, "category")
            + _row(v, "description")
        )
    image = (
        f'<div class="form-row"><label class="caption" for="image">{escape(lab["image"])}</label>'
        f'<input type="file" id="image" name="image" accept="image/*">'
        f'<div class="hint">{escape(t["image_hint"])}</div></div>'
    )
    featured = (
        f'<div class="form-row"><label class="check"><input type="checkbox" id="featured" name="featured"'
        f' value="on"><span>{escape(lab["featured"])}</span></label>'
        f'<div class="hint">{escape(t["featured_hint"])}</div></div>'
    )
    body = f"""<form method="post" action="/products" enctype="multipart/form-data" autocomplete="off">
<div class="head"><h1>{escape(t["new_product_title"])}</h1>
<div class="head-actions"><a class="btn btn-ghost" href="/products">{escape(t["cancel"])}</a>
<button class="btn btn-danger" type="submit" formaction="/products/delete" formnovalidate>{escape(t["delete"])}</button>
<button class="btn btn-ghost" type="submit" name="intent" value="draft">{escape(t["save_draft"])}</button>
<button class="btn btn-primary" type="submit" name="intent" value="publish">{escape(t["publish"])}</button></div></div>
<div class="columns">
<section class="card"><h2>{escape(t["section_basic"])}</h2>
{fields}
</section>
<section class="card"><h2>{escape(t["section_media"])}</h2>
{image}
{featured}
</section>
</div>
</form>"""
    return page(v, t["new_product_title"], body, crumbs=[t["nav_products"], t["new_product_title"]], name="new")


def render_published(v: ShopVariant, submission: Mapping[str, Any]) -> str:
    """The answer to a POST: "Published" (or "Draft saved") and the submitted values, one per label."""
    t, lab = v.texts, v.labels
    draft = submission.get("intent") == "draft"
    heading = t["draft_saved"] if draft else t["published"]
    message = "" if draft else t["published_message"]
    items = []
    for name in ("name", "price", "stock", "category", "description"):
        items.append(f"<dt>{escape(lab[name])}</dt><dd>{escape(str(submission.get(name) or '—'))}</dd>")
    image = submission.get("image")
    shown = f"{image['filename']} ({image['size']} B)" if isinstance(image, Mapping) else t["no_image"]
    items.append(f"<dt>{escape(lab['image'])}</dt><dd>{escape(shown)}</dd>")
    featured = t["yes"] if submission.get("featured") else t["no"]
    items.append(f"<dt>{escape(lab['featured'])}</dt><dd>{escape(featured)}</dd>")
    body = f"""<section class="card"><div class="banner"><div class="tick">✓</div>
<div><h1>{escape(heading)}</h1><div class="hint">{escape(message)}</div></div></div></section>
<section class="card"><dl>{"".join(items)}</dl></section>
<div class="actions">
<a class="btn btn-ghost" href="/products">{escape(t["back_to_products"])}</a>
<a class="btn btn-primary" href="/products/new">{escape(t["add_another"])}</a></div>"""
    return page(v, heading, body, crumbs=[t["nav_products"], heading], name="draft" if draft else "published")


def render_deleted(v: ShopVariant) -> str:
    """The answer to "Delete": the form is thrown away."""
    t = v.texts
    body = f'<div class="head"><h1>{escape(t["deleted"])}</h1></div>'
    return page(v, t["deleted"], body, crumbs=[t["nav_products"], t["deleted"]], name="deleted")


def render_placeholder(v: ShopVariant, nav_key: str) -> str:
    """A page for the other navigation entries (dashboard, orders...): a title and an empty card."""
    title = v.texts[nav_key]
    body = (
        f'<div class="head"><h1>{escape(title)}</h1></div>'
        f'<section class="card"><p class="hint">{escape(v.texts["empty_page"])}</p></section>'
    )
    return page(v, title, body, active=nav_key, crumbs=[title], name=nav_key.removeprefix("nav_"))
