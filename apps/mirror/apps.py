from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MirrorConfig(AppConfig):
    name = "apps.mirror"
    verbose_name = _("Mirror")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.mirror import receivers  # noqa: F401 - keeps the mirror in step with writes
