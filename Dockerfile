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
# quota: under Kubernetes limits set WEB_CONCURRENCY to the limit). python -m app is
# uvicorn with the limits that hold without a proxy (head size and time, idle and
# write timeouts, a connection limit; app/server.py); the app bounds its own bodies,
# computations and answers (app/api/limits.py). See docs/DEPLOY.md.
CMD ["sh", "-c", "exec python -m app --host 0.0.0.0 --port 8000 --workers ${WEB_CONCURRENCY:-$(nproc)}"]
