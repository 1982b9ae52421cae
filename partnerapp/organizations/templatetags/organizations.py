"""`{% if current_membership|can:"operate" %}`: templates show only what the role allows
(the views refuse it anyway; this keeps buttons a member cannot use off the page)."""

from django import template

from partnerapp.organizations import permissions

register = template.Library()


@register.filter
def can(membership, perm: str) -> bool:
    return permissions.can(membership, permissions.Perm(perm))
