# syntax=docker/dockerfile:1
# One image for every process of the platform: the web server (the default command), the Celery worker
# (`celery -A worker worker`), the scheduler (`celery -A worker beat`) and one-off `python manage.py ...` runs.
# docker-compose.yml shows how they fit together.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings

WORKDIR /app

# The processes run as an unprivileged user that owns nothing in /app but the media folder: the code and the
# collected static files stay root-owned and read-only at run time.
RUN groupadd --system --gid 10001 stimmen \
    && useradd --system --uid 10001 --gid stimmen --home-dir /app --no-create-home --shell /usr/sbin/nologin stimmen

# Dependencies first, so that a code change does not reinstall them. The lock pins every package; all of them
# ship binary wheels for CPython 3.11 on x86_64 Linux, so the slim image needs no compiler.
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock

COPY . .

# Fonts for the printable invite-code sheets (PDF), in the scripts of the campaign languages.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

# Build-time Django commands. Settings refuse to load without a secret when DEBUG is off, so they get a
# throwaway one: it signs nothing and is not part of the image's environment; the real SECRET_KEY comes from
# the environment at run time. The translations' .mo files are committed, so nothing needs compiling here.
# Static files are collected (hashed and compressed) into /app/staticfiles, which WhiteNoise serves.
RUN export SECRET_KEY=build-only-throwaway-not-a-secret \
    && python manage.py collectstatic --noinput \
    && mkdir -p /app/media \
    && chown stimmen:stimmen /app/media

USER stimmen

EXPOSE 8000

# The access log must not contain what the platform promises respondents never to store: no IP address
# (gunicorn's default format logs %(h)s, the client address; nor an X-Forwarded-For or X-Real-IP header) and no
# user agent (%(a)s). It also leaves out the query string and the referrer, because a resume link carries the
# respondent's resume code as `?code=...`: %(U)s is the path alone, where %(r)s would log the whole request line.
# tests/test_deployment.py checks this.
# --no-control-socket: gunicorn (since 25.1) would otherwise try to create ~/.gunicorn/gunicorn.ctl, in a home
# the app user cannot write to; nothing here uses gunicornc.
# gthread: a request mostly waits for PostgreSQL, so threads keep both cores busy where sync workers would idle
# (bench/README.md, "Respondent throughput": about 2.5x the requests/s of sync workers with persistent connections).
CMD ["gunicorn", "config.wsgi:application", \
     "--bind", "0.0.0.0:8000", \
     "--workers", "3", \
     "--worker-class", "gthread", \
     "--threads", "4", \
     "--no-control-socket", \
     "--access-logfile", "-", \
     "--access-logformat", "%(t)s \"%(m)s %(U)s %(H)s\" %(s)s %(b)s %(M)sms"]
