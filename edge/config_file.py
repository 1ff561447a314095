"""Reading the edge config file: YAML, environment substitution and problems named by key.

Any string may hold `${NAME}`, replaced by the environment variable NAME before validation, so
passwords need not sit in the file (`$${` writes a literal `${`). Every problem found is reported
at once, by its key path. Errors never echo the values they complain about: a value may be a
password or an RTSP URL with one.
"""

import os
import re
import sys
from collections.abc import Hashable, Mapping
from pathlib import Path

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from edge.config import EdgeConfig
from edge.errors import ConfigError
from edge.kitchen.build import kitchen_problems

_ENV_REFERENCE = re.compile(r"\$(\$?)\{([^}]*)\}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that rejects a key given twice in one mapping instead of keeping the last."""

    def construct_mapping(
        self, node: yaml.MappingNode, deep: bool = False
    ) -> dict[Hashable, object]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, Hashable):
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key!r}", key_node.start_mark
                    )
                seen.add(key)
        return super().construct_mapping(node, deep)


def _yaml_problem(err: yaml.YAMLError) -> str:
    # str(err) quotes the offending line, which may hold a password: use the mark and problem only
    if isinstance(err, yaml.MarkedYAMLError) and err.problem_mark is not None:
        mark = err.problem_mark
        return f"yaml: line {mark.line + 1}, column {mark.column + 1}: {err.problem}"
    return f"yaml: {type(err).__name__}"


def _key_path(location: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in location) or "(top level)"


def _substitute(
    value: object, location: tuple[int | str, ...], env: Mapping[str, str], problems: list[str]
) -> object:
    if isinstance(value, dict):
        return {
            key: _substitute(item, (*location, str(key)), env, problems)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [
            _substitute(item, (*location, index), env, problems) for index, item in enumerate(value)
        ]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        escaped, name = match.group(1), match.group(2)
        if escaped:
            return "${" + name + "}"
        if _ENV_NAME.fullmatch(name) is None:
            problems.append(f"{_key_path(location)}: '${{{name}}}' is not a valid variable name")
            return ""
        if name not in env:
            problems.append(f"{_key_path(location)}: environment variable {name} is not set")
            return ""
        return env[name]

    return _ENV_REFERENCE.sub(replace, value)


def _error_problem(error: ErrorDetails) -> str:
    # never error["input"]: it may be a password or a URL with one
    location = _key_path(tuple(error["loc"]))
    if error["type"] == "value_error":
        reason = str(error.get("ctx", {}).get("error", error["msg"]))
    elif error["type"] == "extra_forbidden":
        reason = "unknown key"
    elif error["type"] == "missing":
        reason = "required"
    elif error["type"] == "string_pattern_mismatch":  # Identifier is our only pattern
        reason = "must be 1 to 64 letters, digits, '-' or '_', starting with a letter or digit"
    else:
        reason = error["msg"]
    return f"{location}: {reason}"


def _root_errors(err: ValidationError) -> list[ErrorDetails]:
    """The errors without a list's "too short" that only follows from its items' own errors."""
    errors = err.errors(include_input=False)
    failed_inside = {
        tuple(error["loc"][:end]) for error in errors for end in range(1, len(error["loc"]))
    }
    return [
        error
        for error in errors
        if not (error["type"] == "too_short" and tuple(error["loc"]) in failed_inside)
    ]


def _first_ids(section: str, items: object, problems: list[str]) -> dict[str, int]:
    """Each item's `id` -> the index of its first item in the section; repeats become problems."""
    first: dict[str, int] = {}
    for index, item in enumerate(items if isinstance(items, list) else []):
        item_id = item.get("id") if isinstance(item, dict) else None
        if not isinstance(item_id, str):
            continue
        if item_id in first:
            problems.append(
                f"{section}.{index}.id: duplicate {section[:-1]} id {item_id!r}"
                f" (also {section}.{first[item_id]}.id)"
            )
        else:
            first[item_id] = index
    return first


def _cross_problems(data: Mapping[str, object]) -> list[str]:
    """Checks across sections, run on the raw data so they show up next to schema errors."""
    problems: list[str] = []
    cameras = data.get("cameras")
    camera_ids = _first_ids("cameras", cameras, problems)
    rules = data.get("rules")
    _first_ids("rules", rules, problems)
    for index, rule in enumerate(rules if isinstance(rules, list) else []):
        watched = rule.get("cameras") if isinstance(rule, dict) else None
        if isinstance(watched, list) and isinstance(cameras, list):
            problems.extend(
                f"rules.{index}.cameras: unknown camera {camera_id!r}"
                for camera_id in watched
                if isinstance(camera_id, str) and camera_id not in camera_ids
            )
    return problems


def load_config(path: Path, *, env: Mapping[str, str] | None = None) -> EdgeConfig:
    """Read and validate an edge config; raise ConfigError listing every problem found."""
    environment = os.environ if env is None else env
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(path, [f"(file): cannot read {path}: {type(err).__name__}"]) from err
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as err:
        raise ConfigError(path, [_yaml_problem(err)]) from err
    if not isinstance(data, dict):
        raise ConfigError(path, ["(top level): expected a mapping of keys (site, edge, ...)"])
    problems: list[str] = []
    substituted = _substitute(data, (), environment, problems)
    assert isinstance(substituted, dict)
    problems.extend(_cross_problems(substituted))
    try:
        config = EdgeConfig.model_validate(substituted)
    except ValidationError as err:
        problems[:0] = [_error_problem(error) for error in _root_errors(err)]
        raise ConfigError(path, problems) from None
    if config.kitchen is not None:
        problems.extend(kitchen_problems(config.kitchen, [camera.id for camera in config.cameras]))
    if problems:
        raise ConfigError(path, problems)
    return config


def file_problems(config: EdgeConfig) -> list[str]:
    """Files the config uses that do not exist (here, now): model, enabled video files, TLS."""
    problems: list[str] = []
    if not config.model.path.is_file():
        problems.append(f"model.path: no such file {config.model.path}")
    for index, camera in enumerate(config.cameras):
        if camera.enabled and not camera.is_rtsp and not Path(camera.read_url).is_file():
            key = "url" if camera.sub_stream_url is None else "sub_stream_url"
            problems.append(f"cameras.{index}.{key}: no such video file {camera.read_url}")
    tls = config.mqtt.tls
    if tls is not None:
        for key in ("ca_file", "cert_file", "key_file"):
            value = getattr(tls, key)
            if value is not None and not value.is_file():
                problems.append(f"mqtt.tls.{key}: no such file {value}")
    return problems


def check_config(path: Path, *, env: Mapping[str, str] | None = None) -> int:
    """Print every problem of the config at `path` to stderr and return 1, or a summary and 0."""
    try:
        config = load_config(path, env=env)
        problems = file_problems(config)
    except ConfigError as err:
        problems = err.problems
    if problems:
        for problem in problems:
            sys.stderr.write(f"{problem}\n")
        sys.stderr.write(f"{path}: {len(problems)} problem(s)\n")
        return 1
    enabled = len(config.enabled_cameras)
    sys.stdout.write(
        f"ok: {path}: site={config.site} edge={config.edge}"
        f" cameras={len(config.cameras)} ({enabled} enabled) rules={len(config.rules)}"
        f" mqtt={config.mqtt.host}:{config.mqtt.port} tls={'on' if config.mqtt.tls else 'off'}"
        f" outbox={config.outbox.path} detector_instances={config.detector.workers}"
        f" motion={'on' if config.motion.enabled else 'off'}\n"
    )
    return 0
