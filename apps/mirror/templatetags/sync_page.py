"""Filters of the Sync page: spans of time as people read them ("12 s", "5 min", "2 h 10 min")."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def duration(seconds: Any) -> str:
    """Whole seconds as a short span of time; "" for what is not a number."""
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        return ""
    total = max(0, int(seconds))
    if total < 120:
        return _("%(seconds)s s") % {"seconds": total}
    minutes = total // 60
    if minutes < 120:
        return _("%(minutes)s min") % {"minutes": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return _("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": minutes}
    days, hours = divmod(hours, 24)
    return _("%(days)s d %(hours)s h") % {"days": days, "hours": hours}
