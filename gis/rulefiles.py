"""Reading a cited rule file (travel rules, clinical rules, welfare programmes): a shipped file by id or any YAML
file by path, validated by the stage's pydantic model, every bad key reported with where it is."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class Problems(ValueError):
    """Several located problems, raised from a model validator; reported one by one after the file's name."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


def located(loc: tuple) -> str:
    """A pydantic error location as a dotted key (`levels.4.measures.0`)."""
    return ".".join(str(p) for p in loc) or "(top level)"


def rule_file(ref: str, folder: Path, shipped: list[str], unknown: Exception) -> Path:
    """The shipped file `folder/ref.yml` when `ref` is one of `shipped`, else `ref` as a path to a YAML file;
    `unknown` is raised when it is neither."""
    if ref in shipped and (folder / f"{ref}.yml").is_file():
        return folder / f"{ref}.yml"
    path = Path(ref)
    if path.suffix in (".yml", ".yaml") and path.is_file():
        return path
    raise unknown


def parse_rule_file(path: Path, model: type[M], invalid: type[Exception]) -> M:
    """One YAML file validated as `model`; `invalid` names the file and every bad key (never a traceback)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise invalid(f"{path}: not valid YAML: {e}") from None
    if not isinstance(data, dict):
        raise invalid(f"{path}: expected a mapping at the top level")
    try:
        return model.model_validate(data)
    except ValidationError as e:
        problems: list[str] = []
        for err in e.errors():
            inner = (err.get("ctx") or {}).get("error")
            if isinstance(inner, Problems):
                problems.extend(inner.problems)
            else:
                msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
                problems.append(f"{located(err['loc'])}: {msg}")
        raise invalid(f"{path}: " + "; ".join(problems)) from None
