"""Schedules: recurring jobs — list, create, edit, enable/disable, delete.

A schedule makes one normal job at each cron slot (`jobs.schedules`); these pages only
edit the row and show what it did (its runs and their jobs) and will do (next slots).
"""

from __future__ import annotations

from datetime import datetime
from itertools import islice
from zoneinfo import ZoneInfo, available_timezones

from cronsim import CronSim
from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from partnerapp.connections.models import Connection
from partnerapp.dashboard.forms import (
    OWN_PLACEHOLDER_HELP,
    PLACEHOLDER_HELP,
    STATUS_CHOICES,
    OperationFieldsMixin,
)
from partnerapp.dashboard.selectors import account_choices
from partnerapp.dashboard.wizard_views import reminder_texts
from partnerapp.jobs import schedules as schedule_services
from partnerapp.jobs.models import Schedule
from partnerapp.jobs.operations import OPERATIONS, JobInputError, operation_choices
from partnerapp.jobs.operations.texts import LANGUAGE_NAMES
from partnerapp.jobs.schedules import cron_check, weekly_reminders_create
from partnerapp.organizations import current
from partnerapp.organizations.permissions import Perm, member_required

NEXT_SLOTS = 3
RECENT_RUNS = 10
DATE_CHOICES = [
    ("today", gettext_lazy("Dated on the day of the run")),
    ("", gettext_lazy("Any date")),
]
ZONES = sorted(available_timezones())
NEW_SCHEDULE_ACTION = "invoice.send_by_email"
COMMON_ZONES = (
    "Europe/Zurich",
    "Europe/Berlin",
    "Europe/Vienna",
    "Europe/Paris",
    "Europe/Rome",
    "Europe/London",
    "UTC",
)


class ScheduleForm(OperationFieldsMixin, forms.Form):
    """A schedule: when, which documents, and the parameters of its operation — checked
    by the operation's own form, the same one the wizard and the API use."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    connection = forms.ModelChoiceField(
        label=gettext_lazy("Account"), queryset=Connection.objects.none(), empty_label=None
    )
    action = forms.ChoiceField(label=gettext_lazy("Action"))
    cron = forms.CharField(
        label=gettext_lazy("When (cron expression)"),
        max_length=100,
        initial="0 8 * * 1-5",
        help_text=gettext_lazy(
            "Minute, hour, day of month, month, day of week. "
            "“0 8 * * 1-5”: weekdays at 08:00; “30 17 * * 5”: Fridays at 17:30."
        ),
    )
    time_zone = forms.ChoiceField(
        label=gettext_lazy("Time zone"),
        # The zones Swiss firms and their clients use first; every other one below (a
        # select finds an option by typing its first letters).
        choices=[
            (gettext_lazy("Common"), [(z, z) for z in COMMON_ZONES]),
            (gettext_lazy("All time zones"), [(z, z) for z in ZONES if z not in COMMON_ZONES]),
        ],
        initial="Europe/Zurich",
    )
    status = forms.ChoiceField(
        label=gettext_lazy("Documents with status"), choices=STATUS_CHOICES, required=False
    )
    dates = forms.ChoiceField(
        label=gettext_lazy("Document date"), choices=DATE_CHOICES, required=False
    )
    q = forms.CharField(label=gettext_lazy("Search text"), max_length=200, required=False)
    enabled = forms.BooleanField(label=gettext_lazy("Enabled"), required=False, initial=True)

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        connections = Connection.objects.filter(organization=organization)
        self.fields["connection"].queryset = connections.order_by("owner_name", "pk")
        self.fields["action"].choices = operation_choices()
        self.fields["action"].initial = NEW_SCHEDULE_ACTION
        # A new schedule starts with the documents its action is about (drafts for sending),
        # never with "all statuses", which would act on every document again and again.
        defaults = OPERATIONS[NEW_SCHEDULE_ACTION].default_statuses
        self.fields["status"].initial = defaults[0] if len(defaults) == 1 else ""
        self.add_operation_fields()

    def clean_cron(self) -> str:
        expression = " ".join(self.cleaned_data["cron"].split())
        try:
            return cron_check(expression)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean(self):
        data = super().clean()
        texts = [data.get(key) or "" for key in ("name", "q")]
        if any("\x00" in text for text in texts):
            raise forms.ValidationError(_("The text contains a null character."))
        operation = OPERATIONS.get(data.get("action", ""))
        if operation is not None:
            self.clean_operation(operation)
        return data

    def schedule_fields(self) -> dict:
        data = self.cleaned_data
        selection = {key: data[key] for key in ("status", "q") if data[key]}
        if data["dates"] == "today":
            selection.update(date_from="today", date_to="today")
        return {
            "name": data["name"].strip(),
            "connection": data["connection"],
            "action": data["action"],
            "cron": data["cron"],
            "time_zone": data["time_zone"],
            "selection": {"filter": selection},
            "parameters": self.parameters(),
            "enabled": data["enabled"],
        }


def _initial(schedule: Schedule) -> dict:
    selection = (schedule.selection or {}).get("filter") or {}
    operation = OPERATIONS.get(schedule.action)
    parameters = operation.form_class.data_for(schedule.parameters or {}) if operation else {}
    return {
        **parameters,
        "name": schedule.name,
        "connection": schedule.connection_id,
        "action": schedule.action,
        "cron": schedule.cron,
        "time_zone": schedule.time_zone,
        "status": selection.get("status", ""),
        "dates": "today" if selection.get("date_from") == "today" else "",
        "q": selection.get("q", ""),
        "enabled": schedule.enabled,
    }


def next_slots(schedule: Schedule, count: int = NEXT_SLOTS) -> list[datetime]:
    """The schedule's next run times in its own time zone (none when disabled or invalid)."""
    if not schedule.enabled:
        return []
    try:
        zone = ZoneInfo(schedule.time_zone)
        return list(islice(CronSim(schedule.cron, timezone.now().astimezone(zone)), count))
    except (ValueError, KeyError, OSError):
        return []


def _label(schedule: Schedule) -> str:
    operation = OPERATIONS.get(schedule.action)
    return operation.label if operation else schedule.action


def _schedule(request: HttpRequest, pk: int) -> Schedule:
    return current.get_or_404(request, Schedule.objects.select_related("connection"), pk=pk)


def email_texts(form: ScheduleForm) -> list[tuple[str, object, object]]:
    """The email's subject and message fields per customer language, for the page."""
    return [
        (name, form[f"subject_{code}"], form[f"body_{code}"])
        for code, name in LANGUAGE_NAMES.items()
    ]


def _shown_open(languages, *, when_given: bool) -> bool:
    """A group of language texts starts unfolded when it holds an error (or a text)."""
    fields = [field for _name, subject, body in languages for field in (subject, body)]
    return any(field.errors or (when_given and field.value()) for field in fields)


def _form_context(form: ScheduleForm) -> dict:
    languages = email_texts(form)
    return {
        "form": form,
        "email_texts": languages,
        "email_texts_open": _shown_open(languages, when_given=True),
        "reminder_levels": [
            (level, texts, _shown_open(texts, when_given=False))
            for level, texts in reminder_texts(form)
        ],
        "placeholders": PLACEHOLDER_HELP,
        "own_placeholders": OWN_PLACEHOLDER_HELP,
    }


@member_required(Perm.VIEW)
def schedule_list(request: HttpRequest) -> HttpResponse:
    schedules = Schedule.objects.filter(organization=request.organization).select_related(
        "connection"
    )
    rows = [(schedule, next_slots(schedule, 1), _label(schedule)) for schedule in schedules]
    search = request.GET.get("account", "").strip()[:100]
    context = {"rows": rows, "accounts": account_choices(request.organization, search=search)}
    return render(request, "dashboard/schedules.html", context)


@member_required(Perm.OPERATE)
@require_POST
def schedule_weekly_reminders(request: HttpRequest) -> HttpResponse:
    """One click: the chosen account's reminder run every Monday at 07:00 — or, when it
    exists already, that one (nothing is created twice)."""
    connection = current.get_or_404(
        request, Connection.objects, pk=_posted_pk(request.POST.get("connection"))
    )
    try:
        schedule, created = weekly_reminders_create(user=request.user, connection=connection)
    except JobInputError as exc:
        messages.error(request, str(exc))
        return redirect("dashboard:schedules")
    names = {"n": schedule.name, "a": connection.owner_name}
    if created:
        messages.success(request, _("“%(n)s” is created for %(a)s.") % names)
    else:
        messages.warning(request, _("%(a)s already has this reminder run: “%(n)s”.") % names)
    return redirect("dashboard:schedule", pk=schedule.pk)


def _posted_pk(value: str | None) -> int:
    """A posted id; anything else matches no row (a 404, like someone else's id)."""
    return int(value) if value and value.isdigit() and len(value) < 19 else 0


@member_required(Perm.OPERATE)
def schedule_create(request: HttpRequest) -> HttpResponse:
    form = ScheduleForm(request.POST or None, organization=request.organization)
    if request.method == "POST" and form.is_valid():
        schedule = schedule_services.schedule_save(
            schedule=Schedule(user=request.user), fields=form.schedule_fields()
        )
        messages.success(request, _("The schedule is saved."))
        return redirect("dashboard:schedule", pk=schedule.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "dashboard/schedule_form.html", _form_context(form), status=status)


@member_required(Perm.VIEW, post=Perm.OPERATE)
def schedule_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The schedule's form (edit), its next run times and its recent runs with their jobs."""
    schedule = _schedule(request, pk)
    form = ScheduleForm(
        request.POST or None, organization=request.organization, initial=_initial(schedule)
    )
    if request.method == "POST" and form.is_valid():
        schedule_services.schedule_save(schedule=schedule, fields=form.schedule_fields())
        messages.success(request, _("The schedule is saved."))
        return redirect("dashboard:schedule", pk=schedule.pk)
    context = {
        **_form_context(form),
        "schedule": schedule,
        "next_slots": next_slots(schedule),
        "label": _label(schedule),
        "runs": schedule.runs.select_related("job")[:RECENT_RUNS],
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "dashboard/schedule_form.html", context, status=status)


@member_required(Perm.OPERATE)
@require_POST
def schedule_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    schedule = schedule_services.schedule_toggle(schedule=_schedule(request, pk))
    if schedule.enabled:
        messages.success(request, _("“%(n)s” is enabled.") % {"n": schedule.name})
    else:
        messages.success(request, _("“%(n)s” is disabled.") % {"n": schedule.name})
    if request.POST.get("next") == "list":
        return redirect("dashboard:schedules")
    return redirect("dashboard:schedule", pk=schedule.pk)


@member_required(Perm.OPERATE)
def schedule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST deletes. The jobs it made stay."""
    schedule = _schedule(request, pk)
    if request.method == "POST":
        name = schedule.name
        schedule_services.schedule_delete(schedule=schedule)
        messages.success(request, _("“%(n)s” is deleted.") % {"n": name})
        return redirect("dashboard:schedules")
    return render(request, "dashboard/schedule_delete.html", {"schedule": schedule})
