from django.urls import path

from apps.core import views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("status/", views.status, name="status"),
    path("preferences/", views.preferences, name="preferences"),
    path("settings/", views.console_settings, name="settings"),
    path("settings/schema/refresh/", views.schema_refresh, name="schema_refresh"),
]
