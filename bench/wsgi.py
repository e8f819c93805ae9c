"""The WSGI application the bench serves, loaded once in gunicorn's master (``--preload``).

Product code loads the URLconf (and with it every view module and its libraries) on each worker's first
request; that takes seconds and would land inside the measured window. Importing it here, before the workers
fork, measures the steady state that a server reaches a minute after a deploy.
"""

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

application = get_wsgi_application()
get_resolver().url_patterns  # noqa: B018 - imported for its side effect: every view module loaded
