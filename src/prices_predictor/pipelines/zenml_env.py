"""Isolate ZenML under PP_HOME and keep it quiet; call before importing zenml."""

from __future__ import annotations

import os
from pathlib import Path

from prices_predictor.core.settings import Settings


def configure_zenml(settings: Settings) -> None:
    settings.zenml_dir.mkdir(parents=True, exist_ok=True)
    os.environ["ZENML_CONFIG_PATH"] = str(settings.zenml_dir)
    os.environ["ZENML_LOCAL_STORES_PATH"] = str(settings.zenml_dir / "local_stores")
    for key, value in {
        "ZENML_ANALYTICS_OPT_IN": "false",
        "ZENML_DISABLE_INTERACTIVE_INPUT": "true",
        "ZENML_LOGGING_COLORS_DISABLED": "true",
        "ZENML_ENABLE_RICH_TRACEBACK": "false",
        "ZENML_LOGGING_VERBOSITY": "WARN",
        "ZENML_DISABLE_STEP_LOGS_STORAGE": "false",
        "AUTO_OPEN_DASHBOARD": "false",
    }.items():
        os.environ.setdefault(key, value)
    # lazy: ZenML (~3 s) only to run pipelines
    from zenml.utils import source_utils

    # Steps are imported from the installed package, wherever the user runs the CLI from.
    source_utils.set_custom_source_root(str(Path(__file__).resolve().parent.parent))
