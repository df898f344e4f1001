"""Reading, writing and publishing specs: YAML files, packaged presets, the JSON Schema."""

from __future__ import annotations

import functools
import json
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from prices_predictor.core.errors import UserError
from prices_predictor.spec.model import DataSpec

PRESETS = ("ames",)


class SpecFileError(UserError):
    """A spec that cannot be used: the message names the file, the entry and the problem."""


def load_spec(path: str | Path) -> DataSpec:
    """A spec from a YAML (or JSON) file; one-line :class:`SpecFileError` when it is bad."""
    p = Path(path).expanduser()
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecFileError(f"{p}: spec file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecFileError(f"{p}: cannot read the spec: {exc}") from None
    return parse_spec(text, str(p))


def parse_spec(text: str, source: str) -> DataSpec:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecFileError(f"{source}: {where}not valid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise SpecFileError(f"{source}: a spec is a mapping (target, features, ...)")
    return from_dict(data, source)


def from_dict(data: dict[str, Any], source: str = "spec") -> DataSpec:
    try:
        return DataSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecFileError(f"{source}: {describe(exc, data)}") from None


def describe(exc: ValidationError, data: dict[str, Any]) -> str:
    """The first problem as 'entry: problem', the entry named by position and column name."""
    errors = exc.errors(include_url=False)
    err = errors[0]
    where = _entry(err["loc"], data)
    msg = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = f"unknown key '{err['loc'][-1]}'"
        where = _entry(err["loc"][:-1], data)
    elif err["type"] in ("literal_error", "enum"):
        msg = f"{msg}, got {err['input']!r}"
    elif err["type"] == "missing":
        msg = f"'{err['loc'][-1]}' is required"
        where = _entry(err["loc"][:-1], data)
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {msg}{more}" if where else f"{msg}{more}"


def _entry(loc: tuple[Any, ...], data: Any) -> str:
    """('features', 3, 'kind') -> "features[3] 'Lot Size': kind" (union branch tags dropped)."""
    parts: list[str] = []
    node = data
    for key in loc:
        if isinstance(key, str) and ("[" in key or "-" in key or key.startswith("function")):
            continue  # pydantic's name of a union branch, not a key of the file
        if isinstance(key, int):
            parts[-1] = f"{parts[-1]}[{key}]" if parts else f"[{key}]"
            node = node[key] if isinstance(node, list) and key < len(node) else None
            name = node.get("name") if isinstance(node, dict) else None
            if name is not None:
                parts[-1] += f" '{name}'"
            continue
        parts.append(str(key))
        node = node.get(key) if isinstance(node, dict) else None
    if len(parts) > 1:
        return f"{' '.join(parts[:-1])}: {parts[-1]}" if "'" in parts[-2] else ".".join(parts)
    return parts[0] if parts else ""


@functools.lru_cache(maxsize=8)
def preset(name: str) -> DataSpec:
    """A spec shipped with the package (``ames``); specs are immutable, so one is shared."""
    if name not in PRESETS:
        raise SpecFileError(f"unknown preset '{name}', choose one of: {', '.join(PRESETS)}")
    text = resources.files("prices_predictor.spec.presets").joinpath(f"{name}.yaml").read_text()
    return parse_spec(text, f"preset {name}")


def dump_yaml(spec: DataSpec) -> str:
    """The spec as YAML, defaults left out, in the model's field order."""
    data = spec.to_data()
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def json_schema() -> dict[str, Any]:
    schema = DataSpec.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "prices-predictor data spec"
    return schema


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
