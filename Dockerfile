# Multi-stage: the full locked stack in a builder; optional build-time training on the bundled
# Ames data exported as a self-contained bundle; a non-root runtime with only the `serving`
# extra (requirements-serving.lock) that serves it.
#
#   docker build -t prices-predictor .                          # python:3.11-slim
#   docker build --build-arg BASE=pp-base:bookworm --network host \
#     --secret id=ca,src=/etc/ssl/certs/ca-certificates.crt .   # no image registry; TLS via a CA
#
# BASE: any Debian image with python3.11 and its venv module (tools/image_test.sh makes one
# with debootstrap when no registry is reachable). The secret `ca`, when given, is the CA
# bundle pip and uv trust during the build; it is never written into an image.
# No `# syntax=` line: it makes BuildKit pull a frontend image from Docker Hub.
ARG BASE=python:3.11-slim

FROM ${BASE} AS builder
ARG PYTHON=python3.11
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1 UV_LINK_MODE=copy
WORKDIR /app
# a C/C++ toolchain and Python's headers: the scoring kernel is compiled ahead of time here
# (numba.pycc checks for both compilers)
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 git gcc g++ libc6-dev \
    && if ! ${PYTHON} -c 'import sysconfig, os, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))'; then \
         apt-get install -y --no-install-recommends ${PYTHON}-dev; \
       fi \
    && rm -rf /var/lib/apt/lists/*
RUN --mount=type=secret,id=ca \
    if [ -s /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi \
    && ${PYTHON} -m venv /opt/uv && /opt/uv/bin/pip install -q "uv==0.13.8" \
    && ${PYTHON} -m venv /opt/venv
ENV PATH=/opt/uv/bin:$PATH
COPY requirements.lock pyproject.toml README.md ./
RUN --mount=type=secret,id=ca \
    if [ -s /run/secrets/ca ]; then export SSL_CERT_FILE=/run/secrets/ca; fi \
    && uv pip install --python /opt/venv/bin/python --compile-bytecode -r requirements.lock
COPY src ./src
RUN --mount=type=secret,id=ca \
    if [ -s /run/secrets/ca ]; then export SSL_CERT_FILE=/run/secrets/ca; fi \
    && uv pip install --python /opt/venv/bin/python --no-deps .
# the scoring kernel compiled ahead of time for every x86-64 level (baseline, AVX2, AVX-512):
# the runtime venv then needs neither numba nor llvmlite (~175 MB), whatever CPU runs it
RUN /opt/venv/bin/python -m prices_predictor.models.scoring.aot --out /opt/aot
# --build-arg WITH_SPARK=1: the spark extra (pyspark, ~0.5 GB) for deploy/spark/; off by default
ARG WITH_SPARK=0
COPY requirements-spark.lock ./
RUN --mount=type=secret,id=ca \
    if [ -s /run/secrets/ca ]; then export SSL_CERT_FILE=/run/secrets/ca; fi \
    && if [ "$WITH_SPARK" = "1" ]; then \
      uv pip install --python /opt/venv/bin/python -r requirements-spark.lock; \
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

# The runtime venv: the `serving` extra only (no training stack, no dev tools, no CatBoost,
# no Evidently), slimmed (tools/slim_venv.sh), then served once (tools/image_smoke.py) so the
# build fails if a route broke and the modules serving imports get their bytecode.
FROM ${BASE} AS serving
ARG PYTHON=python3.11
ENV PYTHONDONTWRITEBYTECODE=1 UV_LINK_MODE=copy
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends binutils libgomp1 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=builder /opt/uv/bin/uv /usr/local/bin/uv
COPY requirements-serving.lock pyproject.toml README.md ./
RUN --mount=type=secret,id=ca \
    if [ -s /run/secrets/ca ]; then export SSL_CERT_FILE=/run/secrets/ca; fi \
    && ${PYTHON} -m venv --without-pip /opt/venv \
    && uv pip install --python /opt/venv/bin/python -r requirements-serving.lock
COPY src ./src
RUN --mount=type=secret,id=ca \
    if [ -s /run/secrets/ca ]; then export SSL_CERT_FILE=/run/secrets/ca; fi \
    && uv pip install --python /opt/venv/bin/python --no-deps .
COPY --from=builder /opt/aot /opt/aot
RUN cp /opt/aot/*.so "$(/opt/venv/bin/python -c 'import prices_predictor.models.scoring as m; print(m.__path__[0])')" \
    && rm -rf /opt/aot
ARG WITH_SPARK=0
COPY requirements-spark.lock ./
RUN --mount=type=secret,id=ca \
    if [ -s /run/secrets/ca ]; then export SSL_CERT_FILE=/run/secrets/ca; fi \
    && if [ "$WITH_SPARK" = "1" ]; then \
      uv pip install --python /opt/venv/bin/python -r requirements-spark.lock; \
    fi
COPY tools/slim_venv.sh tools/image_smoke.py ./tools/
RUN sh tools/slim_venv.sh /opt/venv
COPY --from=trainer /bundle /bundle
# bytecode for what serving imports (about 2,000 modules, 55 MB; all of them would be 135 MB):
# a server on the bundle, every route checked; the registry client's modules by importing them
RUN if [ -d /bundle/model-bundle ]; then \
      env -u PYTHONDONTWRITEBYTECODE PP_HOME=/tmp/pp PP_MODEL_URI=/bundle/model-bundle \
        PP_ADMIN_TOKEN=build MLFLOW_DISABLE_TELEMETRY=true \
        /opt/venv/bin/python tools/image_smoke.py --serve \
      && env -u PYTHONDONTWRITEBYTECODE /opt/venv/bin/python -c \
        "import mlflow, mlflow.artifacts, mlflow.exceptions; from mlflow import MlflowClient; import prices_predictor.tracking.mlflow_env"; \
    else \
      /opt/venv/bin/python -m compileall -q -j 0 /opt/venv/lib; \
    fi \
    && rm -rf /tmp/pp

FROM ${BASE} AS runtime
ARG WITH_SPARK=0
RUN if ! dpkg -s libgomp1 curl >/dev/null 2>&1 || [ "$WITH_SPARK" = "1" ]; then \
      apt-get update && apt-get install -y --no-install-recommends libgomp1 curl \
      && if [ "$WITH_SPARK" = "1" ]; then \
           apt-get install -y --no-install-recommends openjdk-17-jre-headless; \
         fi \
      && apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin; \
    fi \
    && useradd --create-home --uid 10001 app
COPY --from=serving /opt/venv /opt/venv
COPY --from=trainer --chown=app:app /bundle /bundle
ENV PATH=/opt/venv/bin:$PATH PORT=8000 PP_HOME=/home/app/.pp \
    PP_MODEL_URI=/bundle/model-bundle MLFLOW_DISABLE_TELEMETRY=true PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
USER app
# the kernel this CPU runs is one of the ahead-of-time modules (no numba here to compile one)
RUN python -c "from prices_predictor.models.scoring.kernel import backend; print('kernel:', backend().level)"
WORKDIR /home/app
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD curl -fsS "http://127.0.0.1:${PORT}/ready" || exit 1
# Cloud Run and friends set $PORT; without a bundle set PP_MODEL_URI= and PP_MLFLOW_TRACKING_URI.
CMD ["sh", "-c", "exec prices-predictor serve --host 0.0.0.0 --port ${PORT}"]
