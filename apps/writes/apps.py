from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WritesConfig(AppConfig):
    name = "apps.writes"
    verbose_name = _("Write queue")
    default_auto_field = "django.db.models.BigAutoField"
