from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "apps.sandbox"
    verbose_name = "MiniCRM sandbox"
