# Tracemark web service. Build: docker build -t tracemark .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md gunicorn.conf.py ./
COPY signing ./signing
COPY tracemark ./tracemark
COPY portal ./portal
COPY admin ./admin
COPY api ./api
COPY static ./static
COPY translations ./translations
RUN pip install -e . && useradd --system --home /app tracemark && mkdir -p /app/instance \
    && chown tracemark /app/instance
USER tracemark
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
# Set TRACEMARK_MIGRATE_ON_START=1 to apply migrations before serving.
ENV TRACEMARK_BIND=0.0.0.0:8000
CMD ["sh", "-c", "if [ \"$TRACEMARK_MIGRATE_ON_START\" = 1 ]; then tracemark init-db; fi; exec gunicorn -c gunicorn.conf.py 'tracemark.app:create_app()'"]
