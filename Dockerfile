# convviz: a stateless web app; scale it out as identical replicas.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /srv/convviz
COPY pyproject.toml README.md ./
COPY app ./app
COPY static ./static
COPY templates ./templates
# Installs the dependencies; the app itself runs from this folder (static/ and
# templates/ are found beside app/).
RUN pip install . && useradd --create-home --uid 10001 convviz

USER convviz
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
  CMD python -c "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"
# One worker per core (nproc counts the CPUs the container may run on, not a CPU
# quota: under Kubernetes limits set WEB_CONCURRENCY to the limit). The app bounds
# its own bodies and computations (app/api/limits.py); --limit-concurrency is the
# backstop against connection floods, per worker. See docs/DEPLOY.md.
CMD ["sh", "-c", "exec uvicorn app.main:app --host 0.0.0.0 --port 8000 --workers ${WEB_CONCURRENCY:-$(nproc)} --limit-concurrency 2048 --timeout-keep-alive 5 --timeout-graceful-shutdown 20"]
