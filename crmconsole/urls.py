"""Top-level URLs: the admin, login/logout, the language switch and the console's apps."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.templatetags.static import static
from django.urls import include, path, register_converter
from django.views.generic import RedirectView
from django.views.i18n import set_language

from apps.core.http import IdConverter

# `<id:...>`: an id that fits the databases (1 to 2**63 - 1); anything longer is a 404.
register_converter(IdConverter, "id")

urlpatterns = [
    path("admin/", admin.site.urls),
    # Browsers ask for /favicon.ico whatever the page links: the SVG mark answers it.
    path(
        "favicon.ico",
        login_not_required(RedirectView.as_view(url=static("favicon.svg"))),
        name="favicon",
    ),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The login page offers the language switch too.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("", include("apps.core.urls")),
    path("", include("apps.contacts.urls")),
    path("", include("apps.cards.urls")),
    path("", include("apps.todos.urls")),
    path("", include("apps.orders.urls")),
    path("", include("apps.writes.urls")),
    path("", include("apps.webhooks.urls")),
    path("", include("apps.mirror.urls")),
    path("", include("apps.search.urls")),
]

handler404 = "apps.core.errors.not_found"
handler500 = "apps.core.errors.server_error"
