"""WSGI entry point (gunicorn crmconsole.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crmconsole.settings")

application = get_wsgi_application()
