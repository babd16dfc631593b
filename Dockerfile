# syntax=docker/dockerfile:1
# Multi-stage: front-end packages from npm, Python wheels, then a slim non-root runtime.

FROM node:20-slim AS frontend
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM python:3.13-slim AS builder
WORKDIR /src
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
COPY pyproject.toml README.md ./
RUN python -m venv /venv && /venv/bin/pip install --upgrade pip && /venv/bin/pip install .

# The translations' .mo files are built from the .po sources (they are not committed).
FROM python:3.13-slim AS messages
RUN apt-get update && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY locale ./locale
RUN find locale -name '*.po' -exec sh -c 'msgfmt --check -o "${1%.po}.mo" "$1"' _ {} \;

FROM python:3.13-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH="/venv/bin:$PATH"
RUN groupadd --system clinic && useradd --system --gid clinic --home /app clinic
WORKDIR /app
COPY --from=builder /venv /venv
COPY --from=frontend /src/node_modules ./node_modules
COPY --chown=clinic:clinic . .
COPY --from=messages --chown=clinic:clinic /src/locale ./locale
# collectstatic needs settings to load; this key exists only during the build.
RUN SECRET_KEY=build-only-not-secret DEBUG=False python manage.py collectstatic --noinput \
    && mkdir -p var && chown -R clinic:clinic var staticfiles
USER clinic
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health/', timeout=4).status != 200)"
# The workers' request metrics are added up from files in PROMETHEUS_MULTIPROC_DIR (/metrics),
# emptied at each start.
ENV PROMETHEUS_MULTIPROC_DIR=/tmp/clinic-metrics
CMD ["sh", "-c", "rm -rf \"$PROMETHEUS_MULTIPROC_DIR\" && mkdir -p \"$PROMETHEUS_MULTIPROC_DIR\" && exec gunicorn clinic.wsgi --bind 0.0.0.0:8000 --workers 3 --threads 4 --access-logfile - --forwarded-allow-ips '*'"]
