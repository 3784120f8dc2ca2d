# The API's production image: slim, non-root, the same gunicorn command as `make run`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin api \
    && mkdir /data && chown api /data

# The runtime lock: every package pinned with its hashes, exactly what `make run` installs.
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock

COPY *.py ./
COPY api_docs ./api_docs
COPY auth ./auth
COPY concurrency ./concurrency
COPY crypto ./crypto
COPY request_schema ./request_schema
COPY routes ./routes
COPY store ./store
COPY web ./web
COPY static ./static

USER api
# Listen on every interface inside the container; keep the private instance folder on a volume.
ENV HOST=0.0.0.0 \
    PORT=5000 \
    INSTANCE_PATH=/data
EXPOSE 5000
VOLUME ["/data"]

HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5000/health', timeout=2)"]

# gunicorn finishes in-flight requests on SIGTERM (graceful_timeout in gunicorn.conf.py).
STOPSIGNAL SIGTERM
CMD ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
