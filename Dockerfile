# syntax=docker/dockerfile:1
# One image for all four services and the migrate job; compose / Kubernetes choose the
# command:  herplaatsing serve <gateway|inventory|sites|matching>  |  herplaatsing migrate
#   docker build -t herplaatsing:local .

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: a venv with the pinned runtime dependencies and the project -------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

# Dependencies first: this layer is rebuilt only when the lock changes, not on every code edit.
# The lock (deploy/lock.sh, uv) is the complete runtime closure with hashes: --require-hashes
# refuses anything else, and `pip check` below proves nothing is missing. The embedded
# PostgreSQL/NATS packages (the `embedded` extra) are not in it: the image never runs them.
COPY deploy/requirements.txt /tmp/requirements.txt
RUN pip install --require-hashes --no-deps -r /tmp/requirements.txt

WORKDIR /src
COPY pyproject.toml README.md ./
COPY herplaatsing ./herplaatsing
COPY shared ./shared
COPY services ./services
# The public OpenAPI the gateway serves (its package links to this file; the wheel holds a copy).
COPY docs/openapi.json ./docs/openapi.json
COPY CHANGELOG.md ./CHANGELOG.md
RUN pip install --no-deps . \
    && pip check \
    && herplaatsing --help >/dev/null

# --- runtime ----------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="herplaatsing" \
      org.opencontainers.image.description="Backend of the national marketplace that keeps relocatable homes housed"

# A fixed numeric uid, so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
RUN groupadd --system --gid 10001 herplaatsing \
    && useradd --system --uid 10001 --gid 10001 --home-dir /home/herplaatsing --create-home \
       --shell /usr/sbin/nologin herplaatsing

COPY --from=build /opt/venv /opt/venv
# Caches go to /tmp: the root filesystem is read-only in compose and Kubernetes.
# ENVIRONMENT=production is the safe default: it refuses the dev secrets and weak ones, so a
# container started without real JWT_SECRET / INTERNAL_SECRET stops at once.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 \
    XDG_CACHE_HOME=/tmp/.cache \
    XDG_DATA_HOME=/tmp/.local/share \
    ENVIRONMENT=production

USER 10001:10001
WORKDIR /home/herplaatsing
EXPOSE 8000 8001 8002 8003

# Readiness of whichever service runs here (PORT is set by compose and the k8s manifests).
# Not meaningful for `herplaatsing migrate`; compose disables it for that one-shot container.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/readyz' % os.environ.get('PORT', '8000'), timeout=4)"]

CMD ["herplaatsing", "--help"]
