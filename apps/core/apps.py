from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "apps.core"
    verbose_name = _("Console")

    def ready(self) -> None:
        from django.core.signals import request_finished, request_started

        from apps.core import checks  # noqa: F401  (registers the system checks)
        from apps.core.fieldviews import named_fields_end, named_fields_start

        # Administrators' field labels are read once per request, when a page needs one.
        request_started.connect(named_fields_start, dispatch_uid="named_fields_start")
        request_finished.connect(named_fields_end, dispatch_uid="named_fields_end")
