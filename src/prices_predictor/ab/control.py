"""Experiment state kept on the registered model (tags), so every API replica follows it."""

from __future__ import annotations

import datetime as dt

from prices_predictor.ab.assign import Experiment
from prices_predictor.core.settings import Settings
from prices_predictor.tracking.registry import client

TAG_ID, TAG_WEIGHT, TAG_SHADOW = "ab.experiment_id", "ab.weight", "ab.shadow"


def read(s: Settings) -> Experiment | None:
    """The experiment recorded on the registered model; None when none was ever started."""
    tags = client().get_registered_model(s.model_name).tags
    if TAG_ID not in tags:
        return None
    return Experiment(
        tags[TAG_ID],
        float(tags.get(TAG_WEIGHT, 0) or 0),
        tags.get(TAG_SHADOW, "false") == "true",
        s.shadow_sample,
    )


def write(s: Settings, exp: Experiment) -> None:
    c = client()
    c.set_registered_model_tag(s.model_name, TAG_ID, exp.id)
    c.set_registered_model_tag(s.model_name, TAG_WEIGHT, str(exp.weight))
    c.set_registered_model_tag(s.model_name, TAG_SHADOW, str(exp.shadow).lower())


def new_id() -> str:
    return "exp-" + dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
