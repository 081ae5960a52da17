"""Reading policy YAML: files and stored mappings to validated models, with usable errors.

``default_policy()`` reads the packaged ``defaults.yaml`` and ``agent.yaml``;
``load_policy_file(path)`` reads a company or client file as :class:`PolicyOverrides`;
``overrides_from_mapping`` validates overrides kept elsewhere (e.g. a JSON column).
Every failure is a :class:`PolicyError` naming the file, the dotted field path, its line and
column when known, and pydantic's message. Resolve once and pass the Policy in: nothing here
caches or reads the environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from policies.models import (
    Policy,
    PolicyError,
    PolicyOverrides,
    PolicyProblem,
    merge_layers,
    problems_from,
    resolve,
)

__all__ = [
    "AGENT_RESOURCE",
    "DEFAULTS_RESOURCE",
    "PolicyError",
    "default_policy",
    "load_policy",
    "load_policy_file",
    "overrides_from_mapping",
    "parse_policy_text",
]

DEFAULTS_RESOURCE = "defaults.yaml"
AGENT_RESOURCE = "agent.yaml"


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping (YAML would keep the last)."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                mark = key_node.start_mark
                raise _DuplicateKey(str(key), mark.line + 1, mark.column + 1)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


class _DuplicateKey(Exception):
    def __init__(self, key: str, line: int, column: int) -> None:
        super().__init__(key)
        self.key, self.line, self.column = key, line, column


def _parse_yaml(text: str, source: str) -> tuple[Any, Node | None]:
    loader = _StrictLoader(text)
    loader.name = source  # marks in YAML errors then name the file, not "<unicode string>"
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except _DuplicateKey as exc:
        raise PolicyError(
            f"key {exc.key!r} appears twice in one mapping",
            code="policy_duplicate_key",
            path=source,
            problems=(PolicyProblem(exc.key, "duplicate key", exc.line, exc.column),),
        ) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problems: tuple[PolicyProblem, ...] = ()
        if mark is not None:
            what = str(getattr(exc, "problem", None) or exc)
            problems = (PolicyProblem("", what, mark.line + 1, mark.column + 1),)
        raise PolicyError(
            "not valid YAML", code="policy_yaml_syntax", path=source, problems=problems
        ) from exc
    finally:
        loader.dispose()
    return data, node


def _locate(node: Node | None, location: str) -> tuple[int, int] | None:
    """Line and column (1-based) of the YAML node a dotted pydantic location points at."""
    mark = None
    for part in location.split(".") if location else []:
        if isinstance(node, MappingNode):
            found = next(
                ((k, v) for k, v in node.value if isinstance(k, ScalarNode) and k.value == part),
                None,
            )
            if found is None:
                break
            mark, node = found[0].start_mark, found[1]
        elif isinstance(node, SequenceNode) and part.isdigit() and int(part) < len(node.value):
            node = node.value[int(part)]
            mark = node.start_mark
        else:
            break
    return None if mark is None else (mark.line + 1, mark.column + 1)


def _validate(data: Any, source: str, node: Node | None) -> PolicyOverrides:
    if data is None:
        return PolicyOverrides()
    if not isinstance(data, Mapping):
        raise PolicyError(
            f"a policy file must be a mapping of sections, not {type(data).__name__}",
            code="policy_not_a_mapping",
            path=source,
        )
    try:
        return PolicyOverrides.model_validate(data)
    except ValidationError as exc:
        problems = []
        for problem in problems_from(exc):
            where = _locate(node, problem.location)
            line, column = where if where is not None else (None, None)
            problems.append(PolicyProblem(problem.location, problem.message, line, column))
        problems.sort(key=lambda p: (p.line is None, p.line or 0, p.column or 0))
        raise PolicyError(
            f"{len(problems)} invalid setting(s)",
            code="policy_invalid",
            path=source,
            problems=tuple(problems),
        ) from exc


def parse_policy_text(text: str, *, source: str) -> PolicyOverrides:
    """Policy overrides from YAML text; ``source`` names it in errors."""
    data, node = _parse_yaml(text, source)
    return _validate(data, source, node)


def load_policy_file(path: str | Path) -> PolicyOverrides:
    """A company or client policy file (YAML) as validated overrides."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise PolicyError(
            "no such policy file", code="policy_file_not_found", path=str(path)
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(
            f"cannot read policy file: {exc}", code="policy_file_not_found", path=str(path)
        ) from exc
    return parse_policy_text(text, source=str(path))


def overrides_from_mapping(data: Mapping[str, Any] | None, *, source: str) -> PolicyOverrides:
    """Overrides stored as a mapping (a JSON column, a settings dict); ``source`` names it."""
    return _validate(dict(data) if data is not None else None, source, None)


def _packaged(name: str) -> PolicyOverrides:
    text = resources.files("policies").joinpath(name).read_text(encoding="utf-8")
    return parse_policy_text(text, source=f"policies/{name}")


def default_policy() -> Policy:
    """The shipped defaults: ``policies/defaults.yaml`` plus ``policies/agent.yaml``.

    Parsed once per process (the files are package data and do not change while it runs);
    callers get a deep copy, so nothing can alter the shared defaults.
    """
    return _default_policy().model_copy(deep=True)


@lru_cache(maxsize=1)
def _default_policy() -> Policy:
    data: dict[str, Any] = {}
    for name in (DEFAULTS_RESOURCE, AGENT_RESOURCE):
        data = merge_layers(data, _packaged(name).as_layer())
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(
            "the packaged defaults do not make a complete policy",
            code="policy_invalid",
            path=f"policies/{DEFAULTS_RESOURCE}",
            problems=problems_from(exc),
        ) from exc


def load_policy(
    company_path: str | Path | None = None, client_path: str | Path | None = None
) -> Policy:
    """Defaults < company file < client file, resolved."""
    company = load_policy_file(company_path) if company_path is not None else None
    client = load_policy_file(client_path) if client_path is not None else None
    return resolve(default_policy(), company, client)
