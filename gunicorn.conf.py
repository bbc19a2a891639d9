"""gunicorn's settings for the console: the Dockerfile and docker-compose.yml start
`gunicorn crmconsole.wsgi --config gunicorn.conf.py`.

A worker busy longer than `timeout` is killed, and its request ends in an error page. So the
timeout is the settings' WEB_REQUEST_TIMEOUT (the longest a request may take; a system check
warns when MiniCRM's timeouts let one wait longer) plus a margin for rendering the answer.
Threads let a worker serve other people while one request waits on MiniCRM.
"""

import os

from crmconsole.settings import WEB_REQUEST_TIMEOUT

bind = "0.0.0.0:8000"
workers = int(os.environ.get("WEB_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "4"))
timeout = int(WEB_REQUEST_TIMEOUT) + 15
graceful_timeout = timeout
accesslog = "-"
