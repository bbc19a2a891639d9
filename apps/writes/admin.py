from django.contrib import admin

from apps.writes.models import BulkJob, Write


@admin.register(Write)
class WriteAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "kind",
        "target_type",
        "target_id",
        "state",
        "attempts",
        "requested_by",
        "created_at",
        "last_error",
    )
    list_filter = ("state", "kind", "target_type")
    search_fields = ("target_id", "reference", "last_error")
    readonly_fields = [f.name for f in Write._meta.fields]


@admin.register(BulkJob)
class BulkJobAdmin(admin.ModelAdmin):
    list_display = ("id", "description", "total", "created_by", "created_at")
