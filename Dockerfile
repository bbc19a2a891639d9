# One image for every Python service of docker-compose.yml: web (gunicorn), worker, beat and
# the MiniCRM sandbox; each service picks its command.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app

WORKDIR /app

# Dependencies first, so a code change does not reinstall them. The package folders are empty
# here, so installing the project brings in only what pyproject.toml depends on; the code
# itself runs from /app (PYTHONPATH), where settings find templates/, static/ and locale/.
COPY pyproject.toml README.md ./
RUN mkdir -p crmconsole apps \
    && pip install '.[postgres]' \
    && pip uninstall -y crmconsole

COPY . .
# The compiled translations (.mo) are committed, so gettext is not needed in the image.
RUN DJANGO_DEBUG=1 python manage.py collectstatic --noinput --verbosity 0

RUN useradd --system --uid 1000 --home-dir /app --shell /usr/sbin/nologin app \
    && mkdir -p /data \
    && chown app /data
USER app

EXPOSE 8000
# Workers, threads and the timeout (from WEB_REQUEST_TIMEOUT) are in gunicorn.conf.py.
CMD ["gunicorn", "crmconsole.wsgi", "--config", "gunicorn.conf.py"]
