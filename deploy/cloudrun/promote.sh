#!/usr/bin/env bash
# Send all traffic to the revision tagged TAG (the green/blue switch); rollback = promote the other tag.
set -euo pipefail
: "${PROJECT:?set PROJECT}" "${REGION:?set REGION}"
SERVICE="${SERVICE:-prices-predictor}"
TAG="${1:?tag to receive 100% of traffic}"
gcloud run services update-traffic "$SERVICE" --project "$PROJECT" --region "$REGION" \
  --to-tags "$TAG=100" --quiet
