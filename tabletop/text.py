"""Markdown of exercise authors, rendered safely: raw HTML is shown as text, links are checked.

Pure code, used by the web pages and the report alike. Player text is never Markdown: it is
always shown as text.
"""

from __future__ import annotations

from functools import lru_cache

from markdown_it import MarkdownIt


@lru_cache(maxsize=1)
def _md() -> MarkdownIt:
    # "js-default": CommonMark without raw HTML; javascript:, vbscript:, file: and data: links refused.
    return MarkdownIt("js-default", {"linkify": False, "typographer": False}).enable("table")


@lru_cache(maxsize=4096)
def markdown_html(text: str) -> str:
    """Safe HTML for author-written Markdown (inject bodies, briefs, summaries)."""
    return _md().render(text or "")
