"""Times where recency matters: "vor 3 Minuten", the exact Swiss time on hover."""

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html

from partnerapp.smartbusiness.placeholders import swiss_date

register = template.Library()

EXACT = "d.m.Y H:i"  # one format for a moment, in every language (01.12.2026 20:52)


@register.filter
def ago(value) -> str:
    """`<time datetime="…" title="05.12.2026 14:03">3 minutes ago</time>`; "—" for none."""
    if not value:
        return "—"
    exact = date_format(timezone.localtime(value), EXACT)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>', value.isoformat(), exact, naturaltime(value)
    )


@register.filter
def day(value) -> str:
    """A provider's day ("2026-12-03", or a date) the Swiss way: 03.12.2026; "" for none."""
    return swiss_date(value) if value else ""
