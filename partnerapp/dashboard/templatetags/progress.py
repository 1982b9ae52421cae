"""A job's progress as one bar of coloured parts (done, failed, skipped, uncertain, to do).

An SVG with widths as attributes: the CSP allows no inline styles, and a <progress>
element has one colour only, which painted a draft never confirmed as a full green bar.
"""

from django import template
from django.utils.translation import gettext as _

register = template.Library()

PARTS = ("sent", "failed", "skipped", "uncertain", "todo")


@register.inclusion_tag("dashboard/_progress_bar.html")
def progress_bar(counts: dict, done_word: str = "") -> dict:
    total = counts.get("total") or 0
    todo = counts.get("pending", 0) + counts.get("sending", 0)
    amounts = {
        "sent": counts.get("sent", 0),
        "failed": counts.get("failed", 0),
        "skipped": counts.get("skipped", 0),
        "uncertain": counts.get("uncertain", 0),
        "todo": todo,
    }
    labels = {
        "sent": done_word or _("done"),
        "failed": _("failed"),
        "skipped": _("skipped"),
        "uncertain": _("uncertain"),
        "todo": _("to do"),
    }
    segments, x = [], 0
    for part in PARTS:
        if amounts[part]:
            segments.append({"part": part, "x": x, "width": amounts[part]})
            x += amounts[part]
    summary = ", ".join(f"{labels[p]} {amounts[p]}" for p in PARTS if amounts[p])
    return {"segments": segments, "total": max(total, x, 1), "summary": summary}
