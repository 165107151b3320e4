"""Render the declarations' Markdown (written by staff) as sanitised HTML."""

import markdown as markdown_lib
import nh3
from django import template
from django.utils.safestring import mark_safe

register = template.Library()

ALLOWED_TAGS = {"p", "strong", "em", "ul", "ol", "li", "br", "a"}


def _clean(html: str) -> str:
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes={"a": {"href"}})


@register.filter
def markdown(text: str) -> str:
    """Block Markdown: paragraphs and lists."""
    return mark_safe(_clean(markdown_lib.markdown(text)))  # noqa: S308 - sanitised by nh3


@register.filter
def markdown_inline(text: str) -> str:
    """One paragraph's worth of Markdown, without the wrapping <p>."""
    html = markdown_lib.markdown(text).removeprefix("<p>").removesuffix("</p>")
    return mark_safe(_clean(html))  # noqa: S308 - sanitised by nh3
