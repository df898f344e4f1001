#!/usr/bin/env bash
# Build the runtime image and check it serves: `make image-test`. Idempotent, for CI and humans.
#
#  1. Docker: installs Debian's docker.io (and debootstrap) if missing; starts dockerd if
#     none answers (no bridge, no iptables: containers use the host's network).
#  2. Base image: $BASE if set; else python:3.11-slim if a registry gives it; else a Debian
#     bookworm image made once with debootstrap (pp-base:bookworm, ~127 MB, like -slim).
#  3. Builds the Dockerfile (target runtime; BuildKit; --network host; this machine's CA bundle
#     as the build secret `ca`, never written into an image) and times it.
#  4. Runs it on a free port, times /ready, checks every route (tools/image_smoke.py), a
#     prediction, non-root, and the image size (<= IMAGE_MAX_MB, 600); removes the container.
#  5. Trains a blend with a CatBoost member in .venv (`make install`) and serves its bundle
#     from the image, which has no catboost: prices and explanations equal the venv's.
#
# Environment: BASE, IMAGE (tag, default prices-predictor:image-test), IMAGE_MAX_MB (600),
# MIN_FREE_GB (10: refuses to start with less free disk), BUILD_CACHE_KEEP (8GB of BuildKit cache),
# CA_FILE (default /etc/ssl/certs/ca-certificates.crt when it exists), BUILD_ARGS (extra
# `docker build` arguments), KEEP_IMAGE=1 (keep the image), READY_TIMEOUT (120 s).
#
# `--build-only` (make image): steps 1-3 and the size; the image is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_ONLY=0
[ "${1:-}" = "--build-only" ] && BUILD_ONLY=1
IMAGE=${IMAGE:-prices-predictor:image-test}
IMAGE_MAX_MB=${IMAGE_MAX_MB:-600}
READY_TIMEOUT=${READY_TIMEOUT:-120}
STATE=${IMAGE_TEST_DIR:-${TMPDIR:-/tmp}/pp-image-test}
mkdir -p "$STATE"
PASS=0; FAIL=0
ok() { echo "ok   $*"; PASS=$((PASS + 1)); }
bad() { echo "FAIL $*"; FAIL=$((FAIL + 1)); }
log() { echo "== $*"; }

# -- 1. docker -------------------------------------------------------------------------------
need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v debootstrap >/dev/null || need+=(debootstrap)
if ((${#need[@]})); then
  log "installing ${need[*]}"
  apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null
fi
# a client that builds with BuildKit: the buildx plugin, else a client with BuildKit built in
# (Debian's docker.io 20.10; a newer client without buildx refuses DOCKER_BUILDKIT=1)
DOCKER=docker
BUILD=(build)
if docker buildx version >/dev/null 2>&1; then
  BUILD=(buildx build --load)
else
  for d in docker /usr/bin/docker; do
    if DOCKER_BUILDKIT=1 "$d" build --help 2>&1 | grep -q -- --secret; then DOCKER=$d; break; fi
  done
fi
export DOCKER_BUILDKIT=1
if ! "$DOCKER" info >/dev/null 2>&1; then
  log "starting dockerd (log: $STATE/dockerd.log)"
  nohup dockerd --bridge=none --iptables=false --ip-masq=false >"$STATE/dockerd.log" 2>&1 &
  echo $! >"$STATE/dockerd.pid"
  for _ in $(seq 1 60); do "$DOCKER" info >/dev/null 2>&1 && break; sleep 1; done
  "$DOCKER" info >/dev/null 2>&1 || { tail -20 "$STATE/dockerd.log"; echo "dockerd did not start"; exit 1; }
fi

# a build needs room for the builder's full venv and its cache: say so rather than fail midway
root_dir=$("$DOCKER" info -f '{{.DockerRootDir}}' 2>/dev/null || echo /var/lib/docker)
free_gb() { df -Pk "$root_dir" | awk 'NR == 2 {print int($4 / 1024 / 1024)}'; }
if [ "$(free_gb)" -lt "${MIN_FREE_GB:-10}" ]; then
  # what earlier runs left: BuildKit's cache, dangling images, and uv's cache entries no
  # environment uses any more (uv keeps every wheel it ever unpacked: tens of GB over time)
  log "only $(free_gb) GB free under $root_dir: pruning build caches"
  "$DOCKER" builder prune -af >/dev/null 2>&1 || true
  "$DOCKER" image prune -f >/dev/null 2>&1 || true
  if [ -x .venv/bin/uv ]; then .venv/bin/uv cache prune >/dev/null 2>&1 || true; fi
fi
if [ "$(free_gb)" -lt "${MIN_FREE_GB:-10}" ]; then
  echo "only $(free_gb) GB free under $root_dir; the build needs about ${MIN_FREE_GB:-10} GB"
  exit 1
fi
# BuildKit's cache grows by gigabytes per build of a changed lock or source: keep it bounded
prune_cache() { "$DOCKER" builder prune -f --keep-storage "${BUILD_CACHE_KEEP:-8GB}" >/dev/null 2>&1 || true; }

# -- 2. base image -----------------------------------------------------------------------------
debian_mirror() {
  # the mirror this machine's apt uses (deb822 .sources or a one-line sources.list)
  local m
  m=$(grep -hoE '^URIs: *\S+' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' \
      | grep -v security | head -1 || true)
  [ -n "$m" ] || m=$(grep -hoE '^deb +\S+' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | head -1 || true)
  echo "${m:-http://deb.debian.org/debian}"
}
make_base() {
  local root=$STATE/rootfs mirror
  mirror=$(debian_mirror)
  log "making pp-base:bookworm with debootstrap from $mirror (about 2 minutes)"
  rm -rf "$root"
  # python3-distutils: python3.11-venv depends on it, and debootstrap does not resolve that
  debootstrap --variant=minbase \
    --include=python3.11,python3.11-venv,python3-distutils,libgomp1,ca-certificates,curl \
    bookworm "$root" "$mirror" >"$STATE/debootstrap.log" 2>&1 \
    || { tail -20 "$STATE/debootstrap.log"; exit 1; }
  grep -q '^I: Base system installed successfully' "$STATE/debootstrap.log" \
    || { echo "debootstrap did not finish: $STATE/debootstrap.log"; exit 1; }
  # trimmed like the official -slim images: no docs, man pages, locales or apt caches, now or
  # after later installs
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin \
    "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/* \
    "$root"/usr/share/info/* "$root"/usr/share/locale/*
  printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
    'path-exclude /usr/share/man/*' 'path-exclude /usr/share/info/*' \
    'path-exclude /usr/share/locale/*' >"$root/etc/dpkg/dpkg.cfg.d/docker-slim"
  printf '%s\n' 'Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";' \
    'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb || true"; };' \
    >"$root/etc/apt/apt.conf.d/docker-clean"
  tar -C "$root" -c . | "$DOCKER" import --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["/bin/bash"]' - pp-base:bookworm >/dev/null
  rm -rf "$root"
}
if [ -z "${BASE:-}" ]; then
  if "$DOCKER" image inspect python:3.11-slim >/dev/null 2>&1 \
     || timeout 120 "$DOCKER" pull -q python:3.11-slim >/dev/null 2>&1; then
    BASE=python:3.11-slim
  else
    BASE=pp-base:bookworm
    "$DOCKER" image inspect "$BASE" >/dev/null 2>&1 || make_base
  fi
fi
log "base image: $BASE"

# -- 3. build ----------------------------------------------------------------------------------
CA_FILE=${CA_FILE:-/etc/ssl/certs/ca-certificates.crt}
secret=()
[ -s "$CA_FILE" ] && secret=(--secret "id=ca,src=$CA_FILE")
log "building $IMAGE (log: $STATE/build.log)"
t0=$(date +%s)
# shellcheck disable=SC2086  # BUILD_ARGS: words on purpose
if "$DOCKER" "${BUILD[@]}" --progress=plain --network host "${secret[@]}" \
     --build-arg "BASE=$BASE" --target runtime -t "$IMAGE" ${BUILD_ARGS:-} . >"$STATE/build.log" 2>&1; then
  ok "build in $(($(date +%s) - t0)) s"
else
  tail -40 "$STATE/build.log"
  bad "build (see $STATE/build.log)"
  echo "$PASS passed, $FAIL failed"
  exit 1
fi
grep -E '^#[0-9]+ [0-9.]+ (ready after|[0-9]+ passed)' "$STATE/build.log" | sed 's/^/   build-time smoke: /' || true

# -- 4. run and check --------------------------------------------------------------------------
size=$("$DOCKER" image inspect -f '{{.Size}}' "$IMAGE")
size_mb=$((size / 1000 / 1000))
if [ "$size_mb" -le "$IMAGE_MAX_MB" ]; then ok "image size ${size_mb} MB <= ${IMAGE_MAX_MB} MB"
else bad "image size ${size_mb} MB > ${IMAGE_MAX_MB} MB"; fi
if [ "$BUILD_ONLY" = 1 ]; then
  prune_cache
  echo "$IMAGE built: $PASS passed, $FAIL failed"
  [ "$FAIL" -eq 0 ]
  exit
fi

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
NAME=pp-image-test-$$
cleanup() {
  "$DOCKER" rm -f "$NAME" "$NAME-cb" >/dev/null 2>&1 || true
  [ "${KEEP_IMAGE:-0}" = "1" ] || "$DOCKER" rmi "$IMAGE" >/dev/null 2>&1 || true
  prune_cache
}
trap cleanup EXIT
t0=$(date +%s.%N)
"$DOCKER" run -d --name "$NAME" --network host -e PORT="$PORT" -e PP_DRIFT_MIN_ROWS=10 \
  -e PP_ADMIN_TOKEN=image-test "$IMAGE" >/dev/null
ready=""
while python3 -c "import sys,time; sys.exit(0 if time.time() - $t0 < $READY_TIMEOUT else 1)"; do
  if curl -fsS -m 2 "http://127.0.0.1:$PORT/ready" >/dev/null 2>&1; then
    ready=$(python3 -c "import time; print(f'{time.time() - $t0:.2f}')"); break
  fi
  [ "$("$DOCKER" inspect -f '{{.State.Running}}' "$NAME")" = true ] || break
  sleep 0.1
done
if [ -n "$ready" ]; then ok "/ready after ${ready} s (docker run to 200)"
else "$DOCKER" logs --tail 30 "$NAME"; bad "/ready within ${READY_TIMEOUT} s"; fi
if [ -n "$ready" ]; then
  body=$(curl -fsS -X POST -H 'Content-Type: application/json' \
    -d '{"gr_liv_area": 1500, "overall_qual": 6}' "http://127.0.0.1:$PORT/v1/predict" || true)
  if echo "$body" | python3 -c 'import json,sys; p = json.load(sys.stdin)["price"]; sys.exit(0 if p > 10000 else 1)' 2>/dev/null
  then ok "/v1/predict: $(echo "$body" | cut -c1-60)"; else bad "/v1/predict: $body"; fi
  if PP_ADMIN_TOKEN=image-test python3 tools/image_smoke.py --url "http://127.0.0.1:$PORT" >"$STATE/smoke.log" 2>&1
  then ok "every route: $(tail -1 "$STATE/smoke.log")"; else cat "$STATE/smoke.log"; bad "routes"; fi
  uid=$("$DOCKER" exec "$NAME" id -u)
  if [ "$uid" != 0 ]; then ok "runs as uid $uid"; else bad "runs as root"; fi
  # the runtime venv holds the serving extra only
  extra=$("$DOCKER" exec "$NAME" python -c 'import importlib.util as u; print(" ".join(m for m in ("zenml", "catboost", "optuna", "evidently", "shap", "numba", "llvmlite", "pytest", "pip") if u.find_spec(m)))')
  if [ -z "$extra" ]; then ok "no training/dev packages (nor numba) in the runtime venv"; else bad "runtime venv has: $extra"; fi
  level=$("$DOCKER" exec "$NAME" python -c 'from prices_predictor.models.scoring.kernel import backend; print(backend().level)' 2>&1 || true)
  case "$level" in
    x86-64*|generic) ok "scoring kernel compiled ahead of time, level $level" ;;
    *) bad "scoring kernel: $level" ;;
  esac
fi

# -- 5. a model with a CatBoost member, which the runtime venv has no library for ---------------
# trained here (.venv), served by the image from a mounted bundle and by this machine's venv:
# the image must price and explain it as the venv with catboost does
if [ -n "$ready" ]; then
  CB=$STATE/catboost-member
  rm -rf "$CB" && mkdir -p "$CB"
  printf '%s' '{"catboost": {"iterations": 200}, "blend": {"choose_weights": false,
    "weights": {"linear": 0.5, "catboost": 0.5}}}' >"$CB/params.json"
  cb_env=(env PP_HOME="$CB/home" PP_PARAMS_FILE="$CB/params.json" PP_CV_FOLDS=2
    MLFLOW_DISABLE_TELEMETRY=true ZENML_ANALYTICS_OPT_IN=false)
  if "${cb_env[@]}" .venv/bin/prices-predictor train --no-deploy >"$CB/train.log" 2>&1 \
     && "${cb_env[@]}" .venv/bin/prices-predictor export --out "$CB/bundle" --version 1 >>"$CB/train.log" 2>&1
  then
    chmod -R a+rX "$CB"
    CB_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "$DOCKER" run -d --name "$NAME-cb" --network host -e PORT="$CB_PORT" -e PP_MODEL_URI=/cb \
      -v "$CB/bundle:/cb:ro" "$IMAGE" >/dev/null
    HOST_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    env PP_HOME="$CB/serve" PP_MODEL_URI="$CB/bundle" MLFLOW_DISABLE_TELEMETRY=true \
      .venv/bin/prices-predictor serve --port "$HOST_PORT" >"$CB/host.log" 2>&1 &
    host_pid=$!
    if python3 tools/image_catboost_check.py "http://127.0.0.1:$CB_PORT" "http://127.0.0.1:$HOST_PORT" \
         >"$CB/check.log" 2>&1
    then ok "CatBoost member without catboost: $(tail -1 "$CB/check.log")"
    else cat "$CB/check.log"; "$DOCKER" logs --tail 20 "$NAME-cb"; bad "CatBoost member in the image"; fi
    kill "$host_pid" 2>/dev/null || true
    wait "$host_pid" 2>/dev/null || true
    "$DOCKER" rm -f "$NAME-cb" >/dev/null 2>&1 || true
  else
    tail -20 "$CB/train.log"; bad "training a model with a CatBoost member (.venv)"
  fi
fi
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
