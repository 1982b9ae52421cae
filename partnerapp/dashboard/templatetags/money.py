"""Amounts as Swiss people write them: 1'234.50 (the provider's own placeholder format)."""

from django import template

from partnerapp.smartbusiness.placeholders import swiss_amount

register = template.Library()


@register.filter
def chf(value) -> str:
    """`1234.5` → "1'234.50"; empty for no amount."""
    return "" if value in (None, "") else swiss_amount(value)
