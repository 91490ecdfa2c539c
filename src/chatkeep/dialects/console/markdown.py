"""Markdown of message text rendered to HTML that cannot run anything.

Raw HTML in the source is escaped, not passed through (markdown-it's `html` option off), and link
targets with script-capable schemes (javascript:, vbscript:, data: other than images) are dropped by
markdown-it's link validation. The Content-Security-Policy is the second line of defence.
"""

from __future__ import annotations

from functools import lru_cache

from markdown_it import MarkdownIt
from markupsafe import Markup


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    parser.enable(["table", "strikethrough"])
    return parser


def render(text: str) -> Markup:
    """HTML for one message's markdown; safe to insert into a page as is."""
    return Markup(_parser().render(text))  # html is off: every tag in `text` comes out escaped
