from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.core.selectors import minicrm_backend_get


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html", {"backend": minicrm_backend_get()})
