from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TodosConfig(AppConfig):
    name = "apps.todos"
    verbose_name = _("To-dos")
