"""The audit log page and its CSV: owners and admins only (it shows colleagues' IPs)."""

from __future__ import annotations

import csv
import datetime
import json
from collections.abc import Iterator

from django import forms
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partnerapp.organizations import audit
from partnerapp.organizations.models import AuditEvent, Organization
from partnerapp.organizations.permissions import Perm, member_required

EVENTS_PER_PAGE = 50
CSV_HEADER = [
    "time",
    "actor",
    "ip",
    "user_agent",
    "action",
    "action_name",
    "object_type",
    "object_id",
    "object",
    "before",
    "after",
    "request_id",
]


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(label=_("Action"), required=False)
    actor = forms.ChoiceField(label=_("Member"), required=False)
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    q = forms.CharField(label=_("Search"), required=False, max_length=100)

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        everything = [("", _("all"))]
        actions = sorted(audit.ACTIONS.items(), key=lambda pair: str(pair[1]).lower())
        self.fields["action"].choices = everything + actions
        members = organization.memberships.select_related("user").order_by("user__email")
        self.fields["actor"].choices = [
            *everything,
            *((str(m.user_id), m.user.email) for m in members),
            (audit.SYSTEM, _("partnerapp (automatic)")),
        ]

    def events(self) -> QuerySet[AuditEvent]:
        """The organization's events these filters select (an invalid filter is ignored)."""
        self.is_valid()
        data = self.cleaned_data
        return audit.events_for(
            self.organization,
            action=data.get("action") or "",
            actor=data.get("actor") or "",
            since=_day_start(data.get("date_from")),
            until=_day_start(data.get("date_to"), days_after=1),
            search=(data.get("q") or "").strip(),
        )


def _day_start(day: datetime.date | None, *, days_after: int = 0) -> datetime.datetime | None:
    """Midnight in the site's time zone: "to 5.12." includes all of that day."""
    if day is None:
        return None
    start = datetime.datetime.combine(day + datetime.timedelta(days=days_after), datetime.time())
    return timezone.make_aware(start)


def _filter_form(request: HttpRequest) -> AuditFilterForm:
    return AuditFilterForm(request.GET, organization=request.organization)


@member_required(Perm.SETTINGS)
def audit_log(request: HttpRequest) -> HttpResponse:
    """Newest first, 50 a page; the filters stay in the pager's and the CSV's links."""
    form = _filter_form(request)
    page = Paginator(form.events().select_related("actor"), EVENTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    rows = [_row(event) for event in page]
    params = request.GET.copy()
    params.pop("page", None)
    context = {"form": form, "page": page, "rows": rows, "query": params.urlencode()}
    return render(request, "organizations/audit.html", context)


def _row(event: AuditEvent) -> dict:
    return {
        "event": event,
        "who": _who(event),
        "action": audit.action_label(event.action),
        "changes": audit.change_rows(event),
    }


def _who(event: AuditEvent) -> str:
    if event.actor_id is None and event.actor_label == audit.SYSTEM:
        return _("partnerapp (automatic)")
    if event.actor_id is None and event.actor_label == audit.ANONYMOUS:
        return _("a visitor (not signed in)")
    return event.actor_label


@member_required(Perm.SETTINGS)
def audit_csv(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered events as CSV (every page), safe to open in a spreadsheet."""
    events = _filter_form(request).events()
    response = StreamingHttpResponse(_csv_lines(events), content_type="text/csv")
    filename = f"partnerapp-audit-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _csv_lines(events: QuerySet[AuditEvent]) -> Iterator[str]:
    from partnerapp.jobs.export import cell  # one rule for every CSV (jobs import us)

    writer = csv.writer(_Echo(), quoting=csv.QUOTE_ALL)
    yield writer.writerow(CSV_HEADER)
    for event in events.iterator(chunk_size=2000):
        yield writer.writerow([cell(value) for value in _csv_row(event)])


def _csv_row(event: AuditEvent) -> list:
    return [
        timezone.localtime(event.created_at).isoformat(timespec="seconds"),
        event.actor_label,
        event.ip or "",
        event.user_agent,
        event.action,
        audit.action_label(event.action),
        event.object_type,
        event.object_id,
        event.object_label,
        json.dumps(event.before, ensure_ascii=False, sort_keys=True) if event.before else "",
        json.dumps(event.after, ensure_ascii=False, sort_keys=True) if event.after else "",
        event.request_id,
    ]


class _Echo:
    def write(self, value: str) -> str:
        return value
