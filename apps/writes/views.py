"""The write queue's pages: live counts and expected finish, failed writes with Retry and
Discard, and a bulk job's progress bar."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from apps.core.export import FORMATS, export_name, export_response
from apps.core.http import HtmxHttpRequest, safe_next
from apps.core.permissions import admin_only
from apps.core.selectors import module_list
from apps.writes.feedback import undo_forget
from apps.writes.forms import AuditFilterForm
from apps.writes.models import BulkJob, Write
from apps.writes.selectors import (
    audit_writes,
    bulk_job_progress,
    change_text,
    queue_status,
    write_rows,
)
from apps.writes.services import QUEUE_UNREACHABLE, write_discard, write_retry, write_undo

SHOWN = 100


def queue(request: HtmxHttpRequest) -> HttpResponse:
    mine = request.GET.get("mine") == "1"
    attention = Write.objects.filter(state__in=(Write.State.FAILED, Write.State.CONFLICT))
    pending = Write.objects.filter(state__in=Write.PENDING_STATES)
    if mine:
        attention, pending = (
            w.filter(requested_by_id=request.user.pk) for w in (attention, pending)
        )
    context = {
        "status": queue_status(),
        "attention": list(
            write_rows(attention.select_related("requested_by").order_by("id")[:SHOWN])
        ),
        "pending": list(write_rows(pending.select_related("requested_by").order_by("id")[:SHOWN])),
        "recent": list(
            write_rows(
                Write.objects.filter(state=Write.State.DONE)
                .select_related("requested_by")
                .order_by("-done_at")[:20]
            )
        ),
        "jobs": BulkJob.objects.order_by("-id")[:10],
        "mine": mine,
    }
    template = "writes/queue.html"
    if request.htmx and request.htmx.target == "queue-live":
        template += "#live"
    return render(request, template, context)


@require_POST
def retry(request: HtmxHttpRequest, write_id: int) -> HttpResponse:
    get_object_or_404(Write, pk=write_id)
    write = write_retry(write_id=write_id, overwrite=request.POST.get("overwrite") == "1")
    if write.state == Write.State.QUEUED and write.last_error == QUEUE_UNREACHABLE:
        messages.warning(
            request,
            _(
                "The change is queued again, but the queue cannot be reached right now: it "
                "will be sent to MiniCRM when the queue is back."
            ),
        )
    elif write.state == Write.State.QUEUED:
        messages.info(request, _("The change is queued again."))
    return redirect(safe_next(request, reverse("writes:queue")))


@require_POST
def discard(request: HtmxHttpRequest, write_id: int) -> HttpResponse:
    get_object_or_404(Write, pk=write_id)
    write = write_discard(write_id=write_id)
    if write.state == Write.State.DISCARDED:
        messages.info(request, _("The change was discarded; MiniCRM keeps its own value."))
    return redirect(safe_next(request, reverse("writes:queue")))


@require_POST
def undo(request: HtmxHttpRequest, write_id: int) -> HttpResponse:
    """Undo a one-click change while it waits out its hold: nothing reaches MiniCRM. Back to
    the page it was made on, which shows the value as it was."""
    undo_forget(request)
    if write_undo(write_id=write_id, user=request.user):
        messages.success(request, _("Undone: nothing was sent to MiniCRM."))
    else:
        messages.error(request, _("Too late to undo: the change has already gone to MiniCRM."))
    back = safe_next(request, reverse("writes:queue"))
    return HttpResponseClientRedirect(back) if request.htmx else redirect(back)


def job(request: HtmxHttpRequest, job_id: int) -> HttpResponse:
    # A missing job is BulkJob.DoesNotExist: the console's 404 page (NotFoundMiddleware).
    progress = bulk_job_progress(job_id=job_id)
    failed = progress.job.writes.filter(state__in=(Write.State.FAILED, Write.State.CONFLICT))
    context = {"progress": progress, "failed": list(write_rows(failed[:SHOWN]))}
    template = "writes/job.html"
    if request.htmx and request.htmx.target == "job-progress":
        template += "#progress"
    response = render(request, template, context)
    if request.htmx and progress.finished:
        trigger_client_event(response, "writes-changed")  # the header's counter refreshes
    return response


AUDIT_PAGE = 100


@admin_only
def audit(request: HtmxHttpRequest) -> HttpResponseBase:
    """Every change made through the console, by person, object, module and date; as CSV or
    XLSX with `format`."""
    modules = [(module.id, module.name) for module in module_list().modules]
    form = AuditFilterForm(request.GET, modules=modules)
    writes = audit_writes(filters=form.filters())
    file_format = request.GET.get("format", "")
    if file_format in FORMATS:
        rows = (
            [
                row.entry.at,
                row.entry.who,
                row.write.target_label,
                row.entry.what,
                "; ".join(change_text(change) for change in row.changes),
                row.entry.state_label,
                row.entry.error,
            ]
            for row in write_rows(writes.iterator(chunk_size=500))
        )
        header = [
            str(_(t)) for t in ("When", "Who", "Object", "What", "Changes", "Result", "Error")
        ]
        return export_response(
            file_format=file_format, name=export_name(str(_("audit"))), header=header, rows=rows
        )
    count = writes.count()
    pages = max(1, -(-count // AUDIT_PAGE))
    page = min(form.page(), pages)
    shown = list(write_rows(writes[(page - 1) * AUDIT_PAGE : page * AUDIT_PAGE]))
    template = "writes/audit.html"
    if request.htmx and request.htmx.target == "audit-results":
        template += "#results"
    return render(
        request,
        template,
        {"form": form, "rows": shown, "count": count, "page": page, "pages": pages},
    )
