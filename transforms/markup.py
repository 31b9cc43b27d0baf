"""HTML left inside article text: elements a scraper kept, and active content a browser runs.

A paragraph holds *markup* when it holds a real HTML element: a known element name
(:data:`HTML_ELEMENTS`) in a form prose never writes, namely

* a closing tag, ``</b>``, ``</div >`` (so ``<b>bold</b>`` counts);
* an opening tag with an attribute value, ``<a href="/x">``, ``<img src=x>``;
* a self-closing tag, ``<br/>``, ``<img src="x" />``;
* a lower-case bare tag glued to a letter or digit, ``one<br>two``, ``<p>The``.

A bare tag standing apart as a word ("the <b> tag") is prose about HTML and is left alone, as
are "x < y > z", "a <3 b", e-mail addresses in angle brackets and exchange tickers ("<BAC>",
"<RTRS.L>", even "<A>" or "<S>": none of the four forms above can match
:data:`transforms.schema.TICKER`, which has neither a slash, a space nor a lower-case letter).

*Active content* is what a browser would run if the text were ever shown as HTML: a
``<script>``, ``<style>`` or ``<iframe>`` element (in one of the forms above, or its opening
tag right before its content, ``<script>alert(1)``), an ``on...=`` event attribute inside any
tag (``<img src=x onerror="...">``, ``<x onclick=...>``) and a ``javascript:`` URL as an
attribute value, Markdown link target or autolink. The text is never changed: markup is tagged
(quality ``markup``), active content sets its article aside.
"""

from __future__ import annotations

import polars as pl

HTML_ELEMENTS = (
    # document, sections and grouping
    "html", "head", "body", "title", "base", "link", "meta", "style", "script", "noscript",
    "template", "slot", "article", "section", "nav", "aside", "header", "footer", "main",
    "address", "h1", "h2", "h3", "h4", "h5", "h6", "hgroup", "p", "hr", "pre", "blockquote",
    "ol", "ul", "li", "menu", "dl", "dt", "dd", "figure", "figcaption", "div", "search",
    # text-level
    "a", "em", "strong", "small", "s", "cite", "q", "dfn", "abbr", "ruby", "rt", "rp", "data",
    "time", "code", "var", "samp", "kbd", "sub", "sup", "i", "b", "u", "mark", "bdi", "bdo",
    "span", "br", "wbr", "ins", "del",
    # embedded content, tables, forms, interactive
    "picture", "source", "img", "iframe", "embed", "object", "param", "video", "audio", "track",
    "map", "area", "svg", "math", "canvas", "table", "caption", "colgroup", "col", "tbody",
    "thead", "tfoot", "tr", "td", "th", "form", "label", "input", "button", "select",
    "datalist", "optgroup", "option", "textarea", "output", "progress", "meter", "fieldset",
    "legend", "details", "summary", "dialog",
    # obsolete, still common in scraped pages
    "font", "center", "big", "tt", "strike", "marquee", "frame", "frameset", "noframes",
    "nobr", "blink", "acronym",
)  # fmt: skip
"""Element names of HTML (WHATWG living standard, plus obsolete ones scrapers still meet)."""

ACTIVE_ELEMENTS = ("script", "style", "iframe")
"""Elements whose content a browser runs or applies."""


def _names(names: tuple[str, ...]) -> str:
    # Longest first, so "abbr" is tried before "a" (the next character decides anyway).
    return "(?:" + "|".join(sorted(names, key=lambda n: (-len(n), n))) + ")"


def _element_forms(names: str) -> str:
    """The forms of a real element of `names` (case-insensitive; see the module docstring)."""
    closing = rf"</{names}\s*>"
    with_attribute = rf"<{names}\s[^<>]*=[^<>]*>"
    self_closing = rf"<{names}(?:\s[^<>]*)?/>"
    return rf"(?i:{closing}|{with_attribute}|{self_closing})"


_ELEMENTS = _names(HTML_ELEMENTS)
MARKUP = (
    _element_forms(_ELEMENTS)
    # Case-sensitive: an upper-case bare "<B>" or "<A>" may be an exchange ticker.
    + rf"|[\p{{L}}\p{{N}}]<{_ELEMENTS}>|<{_ELEMENTS}>[\p{{L}}\p{{N}}]"
)
"""An HTML element in a form prose never writes."""

_ACTIVE = _names(ACTIVE_ELEMENTS)
ACTIVE_CONTENT = (
    _element_forms(_ACTIVE)
    + rf"|(?i:<{_ACTIVE}>\S)"
    # An event handler attribute inside any tag, known element or not (browsers run both).
    # After a space, quote or slash ("<img/onerror=...>" runs too); no \b, which is Unicode
    # aware and would cost the fast regex engine.
    + r"""|(?i:<[a-z][a-z0-9-]*[\s/](?:[^<>]*[\s"'/])?on[a-z]{3,}\s*=)"""
    # javascript: as an attribute value, a Markdown link target or an autolink.
    + r"""|(?i:(?:=\s*["']?|\]\(\s*|<)\s*javascript\s*:)"""
)
"""Markup a browser would run: active elements, event attributes, javascript: URLs."""

_TAG_NAME = r"</?([A-Za-z][A-Za-z0-9]*)"


def has_markup(text: pl.Expr) -> pl.Expr:
    """True where the text holds an HTML element (:data:`MARKUP`); False for null."""
    return text.str.contains(MARKUP).fill_null(False)


def first_element(text: pl.Expr) -> pl.Expr:
    """The lower-case name of the text's first HTML element ("b" for "a <b>bold</b> word");
    null where it holds none."""
    return text.str.extract(MARKUP, 0).str.extract(_TAG_NAME, 1).str.to_lowercase()


def count_active_content(text: pl.Expr) -> pl.Expr:
    """How many pieces of active content (:data:`ACTIVE_CONTENT`) the text holds; 0 for null."""
    return text.str.count_matches(ACTIVE_CONTENT).fill_null(0).cast(pl.Int64)
