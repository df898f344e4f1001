#!/usr/bin/env bash
# Green/blue deployment on Cloud Run with tag-based traffic split.
#
#   deploy/cloudrun/deploy.sh IMAGE TAG [PERCENT]
#
# Deploys IMAGE as a new revision tagged TAG with no traffic, then (if PERCENT is given) sends
# PERCENT% of traffic to it. Platform-level splitting cannot tell which model served whom: use
# the in-app split (`prices-predictor ab start`) when outcomes must be attributed, because the
# app logs the variant and model version of every prediction and joins feedback to them.
set -euo pipefail
: "${PROJECT:?set PROJECT}" "${REGION:?set REGION}"
SERVICE="${SERVICE:-prices-predictor}"
IMAGE="${1:?image}"; TAG="${2:?tag, e.g. green or blue}"; PERCENT="${3:-}"

gcloud run deploy "$SERVICE" --project "$PROJECT" --region "$REGION" --image "$IMAGE" \
  --tag "$TAG" --no-traffic --port 8000 --memory 1Gi --cpu 1 \
  --set-env-vars "PP_LOG_LEVEL=INFO" --quiet
URL=$(gcloud run services describe "$SERVICE" --project "$PROJECT" --region "$REGION" \
  --format 'value(status.traffic[?tag=='"'$TAG'"'].url)' 2>/dev/null || true)
echo "revision tagged $TAG deployed${URL:+ at $URL}; checking readiness"
[ -n "$URL" ] && curl -fsS "$URL/ready"
if [ -n "$PERCENT" ]; then
  gcloud run services update-traffic "$SERVICE" --project "$PROJECT" --region "$REGION" \
    --to-tags "$TAG=$PERCENT" --quiet
fi
