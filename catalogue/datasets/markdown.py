"""Markdown descriptions rendered to HTML that cannot run anything.

markdown-it renders (raw HTML in the source is escaped, not passed through), then nh3 (the Rust
``ammonia`` sanitiser) keeps only a small allow-list of tags and attributes and only http(s)
and mailto links, so script, event-handler, ``javascript:`` and SVG payloads never become active
on a page, whichever way they are written.
"""

from __future__ import annotations

import html as html_module
from functools import cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

ALLOWED_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "strong", "em", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td", "del",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}, "ol": {"start"}}


@cache
def _renderer() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def render_markdown(text: str | None) -> Markup:
    """Safe HTML for a Markdown text (headings start at level 2: the page has the title)."""
    if not text:
        return Markup("")
    html = _renderer().render(text)
    html = html.replace("<h1>", "<h2>").replace("</h1>", "</h2>")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
    )
    return Markup(clean)  # noqa: S704 - sanitised just above


def plain_summary(text: str | None, length: int = 240) -> str:
    """The first words of a Markdown text as plain text (for lists and search snippets)."""
    if not text:
        return ""
    # tags stripped, then entities decoded: the caller's template escapes the plain text
    plain = html_module.unescape(nh3.clean(_renderer().render(text), tags=set()))
    plain = " ".join(plain.split())
    return plain if len(plain) <= length else plain[: length - 1].rsplit(" ", 1)[0] + "…"
