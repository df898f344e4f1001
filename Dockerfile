# syntax=docker/dockerfile:1
# Multi-stage: locked dependencies in a builder; optional build-time training on the bundled
# Ames data exported as a self-contained bundle; a slim non-root runtime that serves it.

FROM python:3.11-slim AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 git \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv && /opt/venv/bin/pip install "uv==0.13.8"
COPY requirements.lock pyproject.toml README.md ./
RUN /opt/venv/bin/uv pip install --python /opt/venv/bin/python --compile-bytecode -r requirements.lock
COPY src ./src
RUN /opt/venv/bin/uv pip install --python /opt/venv/bin/python --no-deps .
# --build-arg WITH_SPARK=1: the spark extra (pyspark, ~0.5 GB) for deploy/spark/; off by default
ARG WITH_SPARK=0
COPY requirements-spark.lock ./
RUN if [ "$WITH_SPARK" = "1" ]; then \
      /opt/venv/bin/uv pip install --python /opt/venv/bin/python -r requirements-spark.lock; \
    fi

FROM builder AS trainer
ARG TRAIN_AT_BUILD=1
ARG MODEL_VERSION=""
ENV PP_HOME=/build/.pp MLFLOW_DISABLE_TELEMETRY=true ZENML_ANALYTICS_OPT_IN=false \
    MODEL_VERSION=${MODEL_VERSION}
RUN mkdir -p /bundle && if [ "$TRAIN_AT_BUILD" = "1" ]; then \
      /opt/venv/bin/prices-predictor train \
      && /opt/venv/bin/prices-predictor export --out /bundle/model-bundle; \
    fi

FROM python:3.11-slim AS runtime
ARG WITH_SPARK=0
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 curl \
    && if [ "$WITH_SPARK" = "1" ]; then \
         apt-get install -y --no-install-recommends openjdk-17-jre-headless; \
       fi \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 app
COPY --from=builder /opt/venv /opt/venv
COPY --from=trainer --chown=app:app /bundle /bundle
ENV PATH=/opt/venv/bin:$PATH PORT=8000 PP_HOME=/home/app/.pp \
    PP_MODEL_URI=/bundle/model-bundle MLFLOW_DISABLE_TELEMETRY=true PYTHONUNBUFFERED=1 \
    PP_KERNEL_CACHE_DIR=/home/app/.kernel-cache
USER app
# compile the scoring kernel now, so a container starts without compiling it
RUN python -m prices_predictor.models.scoring.kernel
WORKDIR /home/app
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD curl -fsS "http://127.0.0.1:${PORT}/ready" || exit 1
# Cloud Run and friends set $PORT; without a bundle set PP_MODEL_URI= and PP_MLFLOW_TRACKING_URI.
CMD ["sh", "-c", "exec prices-predictor serve --host 0.0.0.0 --port ${PORT}"]
