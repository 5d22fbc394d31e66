"""Configuration: ``conf/default.yaml`` overlaid with a user file, validated into typed objects.

Every key is documented in ``conf/default.yaml``. A user file (``--conf F``) overrides any subset;
a misspelt key, a wrong type or a missing required value raises :class:`ConfigError` with one line
naming the file, the key and what was expected. Environment overrides: ``COMPLIANCE_HOME``,
``COMPLIANCE_WAREHOUSE`` and ``COMPLIANCE_SPARK_MASTER``.

Example:
    >>> cfg = load_config("prod.yaml")
    >>> cfg.deletion.idle_after_hours
    24
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from audits.documents import expansion_problem
from audits.querylog_formats import SourceSettings
from jobs.config.naming import SECTION as NAMING_SECTION
from jobs.config.naming import parse_naming
from jobs.config.querylog_sources import SECTION as SOURCES_SECTION
from jobs.config.querylog_sources import parse_sources
from jobs.errors import ConfigError
from lineage.naming import NO_RULES, NamingRules

DEFAULT_FILE = Path(__file__).resolve().parents[2] / "conf" / "default.yaml"


@dataclass(frozen=True)
class Inputs:
    """Input locations per kind (resolved against ``home``)."""

    query_logs: str
    openlineage: str
    training_configs: str
    probe_samples: str
    deletion_events: str
    deletion_requests: str
    edge_inventory: str
    catalog: str
    policies: str
    annotations: str


@dataclass(frozen=True)
class SparkSettings:
    """Spark master and pass-through settings."""

    master: str
    conf: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Storage:
    """Delta storage engine and retention of the product's own tables."""

    engine: str
    vacuum_retention_hours: int
    max_commit_retries: int
    storage_options: dict[str, str] = field(default_factory=dict)
    """delta-rs object-store options; Spark's S3A settings are derived from them
    (:mod:`jobs.store.object_store`). May hold credentials: the repr shows their keys only."""

    def __repr__(self) -> str:
        opts = {k: "***" if _secret(k) else v for k, v in self.storage_options.items()}
        return (
            f"Storage(engine={self.engine!r}, vacuum_retention_hours={self.vacuum_retention_hours!r}, "
            f"max_commit_retries={self.max_commit_retries!r}, storage_options={opts!r})"
        )


def _secret(key: str) -> bool:
    """Whether a storage option holds a secret (a key, a token, a password)."""
    return any(
        w in key.upper() for w in ("SECRET", "TOKEN", "PASSWORD", "ACCESS_KEY", "SAS", "CREDENTIAL")
    )


@dataclass(frozen=True)
class Confidence:
    """Confidence assigned per signal."""

    sql: float
    sql_ambiguous: float
    job_log: float
    openlineage: float
    config: float
    probe_match: float
    probe_no_match: float
    engine_lineage: float = 0.95
    """Column lineage computed by the engine itself (Trino ioMetadata, Hive LineageLogger)."""


@dataclass(frozen=True)
class Ingest:
    """Limits and defaults of the ingest step."""

    max_sql_bytes: int
    raw_truncate: int
    default_dialect: str
    confidence: Confidence


@dataclass(frozen=True)
class LineageSettings:
    """Closure limits and the probe observation window."""

    max_depth: int | None
    min_confidence: float
    probe_window_days: int


@dataclass(frozen=True)
class Retention:
    """Retention defaults and the restoration-log window."""

    default_days: int
    restoration_days: int


@dataclass(frozen=True)
class Deletion:
    """Lifecycle anomaly thresholds and the default erasure SLA."""

    start_within_hours: float
    idle_after_hours: float
    progress_events: int
    complete_within_days: int
    max_exceptions: int
    default_sla_days: int


@dataclass(frozen=True)
class Keys:
    """Restoration-log key store."""

    dir: str
    rotate_daily: bool


@dataclass(frozen=True)
class Observability:
    """Where the product's own OpenLineage events go."""

    openlineage_sink: str | None


@dataclass(frozen=True)
class Config:
    """The whole validated configuration. Paths are absolute (or URIs) after loading."""

    home: str
    warehouse: str
    audited_warehouse: str
    inputs: Inputs
    reports: str
    spark: SparkSettings
    storage: Storage
    ingest: Ingest
    lineage: LineageSettings
    retention: Retention
    deletion: Deletion
    keys: Keys
    observability: Observability
    query_log_sources: dict[str, SourceSettings] = field(default_factory=dict)
    """Per-source query-log settings by path under ``inputs.query_logs``
    (:mod:`jobs.config.querylog_sources`)."""
    naming: NamingRules = NO_RULES
    """Name mapping rules of the ``naming`` section (:mod:`jobs.config.naming`)."""
    source: str = "<defaults>"


_ENGINES = ("auto", "spark", "delta-rs")


def _type_name(tp: Any) -> str:
    if tp is type(None):
        return "null"
    if isinstance(tp, type):
        return {
            "str": "a string",
            "int": "an integer",
            "float": "a number",
            "bool": "true/false",
        }.get(tp.__name__, tp.__name__)
    origin = typing.get_origin(tp)
    if origin is dict:
        return "a mapping"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp))
    return str(tp)


def _coerce(value: Any, tp: Any, key: str, file: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, key, file)
            except ConfigError:
                continue
        raise ConfigError(f"{file}: key '{key}' is {value!r}, expected {_type_name(tp)}")
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, key, file)
    if value is None:
        raise ConfigError(f"{file}: key '{key}' is missing a value, expected {_type_name(tp)}")
    if origin is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{file}: key '{key}' is {value!r}, expected a mapping")
        return {str(k): str(v) for k, v in value.items()}
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{file}: key '{key}' is {value!r}, expected true/false")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{file}: key '{key}' is {value!r}, expected an integer")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{file}: key '{key}' is {value!r}, expected a number")
        return float(value)
    if tp is str:
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise ConfigError(f"{file}: key '{key}' is {value!r}, expected a string")
        return str(value)
    raise ConfigError(f"{file}: key '{key}' has an unsupported type")  # pragma: no cover


def _build(cls: Any, data: Any, prefix: str, file: str) -> Any:
    where = prefix or "top level"
    if not isinstance(data, Mapping):
        raise ConfigError(f"{file}: key '{where}' is {data!r}, expected a mapping")
    hints = typing.get_type_hints(cls)
    fields = {
        f.name: f
        for f in dataclasses.fields(cls)
        if f.name != "source"
        and not (cls is Config and f.name in (SOURCES_SECTION, NAMING_SECTION))
    }
    for key in data:
        if key not in fields:
            known = [*fields, SOURCES_SECTION, NAMING_SECTION] if cls is Config else list(fields)
            near = difflib.get_close_matches(str(key), known, n=1)
            hint = f" (did you mean '{_join(prefix, near[0])}'?)" if near else ""
            raise ConfigError(f"{file}: unknown key '{_join(prefix, str(key))}'{hint}")
    values = {}
    for name, f in fields.items():
        key = _join(prefix, name)
        if name not in data:
            if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING:
                continue
            raise ConfigError(f"{file}: missing key '{key}', expected {_type_name(hints[name])}")
        values[name] = _coerce(data[name], hints[name], key, file)
    return cls(**values)


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if (
            isinstance(v, Mapping)
            and isinstance(out.get(k), Mapping)
            and k not in ("conf", "storage_options")
        ):
            out[k] = _merge(dict(out[k]), v)
        else:
            out[k] = v
    return out


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read configuration file ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not a UTF-8 text file (byte {exc.start}); expected YAML"
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{path}:{where}: {problem}") from None
    problem = expansion_problem(data)  # before any message could write it out
    if problem:
        raise ConfigError(f"{path}: {problem}")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of configuration keys at the top level")
    return data


def _resolve(home: Path, value: str) -> str:
    if "://" in value:
        return value
    p = Path(value).expanduser()
    return str(p if p.is_absolute() else (home / p).resolve())


def load_config(
    path: str | os.PathLike[str] | None = None, *, env: Mapping[str, str] | None = None
) -> Config:
    """Load the defaults, overlay ``path`` (if given) and the environment, validate, resolve paths.

    Raises:
        ConfigError: one line naming the file, the key and what was expected.
    """
    env = os.environ if env is None else env
    data = _read_yaml(DEFAULT_FILE)
    source = "<defaults>"
    if path is not None:
        data = _merge(data, _read_yaml(Path(path)))
        source = str(path)
    if env.get("COMPLIANCE_HOME"):
        data["home"] = env["COMPLIANCE_HOME"]
    if env.get("COMPLIANCE_WAREHOUSE"):
        data["warehouse"] = env["COMPLIANCE_WAREHOUSE"]
    if env.get("COMPLIANCE_SPARK_MASTER") and isinstance(data.get("spark"), Mapping):
        data["spark"] = {**data["spark"], "master": env["COMPLIANCE_SPARK_MASTER"]}
    sources, problems = parse_sources(data.pop(SOURCES_SECTION, None), source)
    naming, naming_problems = parse_naming(data.pop(NAMING_SECTION, None), source)
    problems += naming_problems
    if problems:
        raise ConfigError(
            problems[0]
            if len(problems) == 1
            else f"{len(problems)} configuration problems:\n" + "\n".join(problems)
        )
    cfg: Config = _build(Config, data, "", source)
    cfg = dataclasses.replace(cfg, query_log_sources=sources, naming=naming)
    if cfg.storage.engine not in _ENGINES:
        raise ConfigError(
            f"{source}: key 'storage.engine' is {cfg.storage.engine!r}, expected one of {', '.join(_ENGINES)}"
        )
    for name in ("min_confidence",):
        v = getattr(cfg.lineage, name)
        if not 0.0 <= v <= 1.0:
            raise ConfigError(
                f"{source}: key 'lineage.{name}' is {v}, expected a number between 0 and 1"
            )
    for section in ("deletion", "retention", "ingest", "storage"):
        for key, v in dataclasses.asdict(getattr(cfg, section)).items():
            if isinstance(v, (int, float)) and not isinstance(v, bool) and v < 0:
                raise ConfigError(f"{source}: key '{section}.{key}' is {v}, expected a number >= 0")
    home = Path(cfg.home).expanduser().resolve()
    inputs = Inputs(**{k: _resolve(home, v) for k, v in dataclasses.asdict(cfg.inputs).items()})
    keys_dir = _resolve(home, cfg.keys.dir)
    warehouse = _resolve(home, cfg.warehouse)
    if "://" not in warehouse and (
        Path(keys_dir) == Path(warehouse) or Path(warehouse) in Path(keys_dir).parents
    ):
        raise ConfigError(
            f"{source}: key 'keys.dir' is inside the warehouse ({warehouse}); keep the key store outside "
            "the warehouse and its backups, or destroyed keys survive in copies"
        )
    return dataclasses.replace(
        cfg,
        home=str(home),
        warehouse=_resolve(home, cfg.warehouse),
        audited_warehouse=_resolve(home, cfg.audited_warehouse),
        reports=_resolve(home, cfg.reports),
        keys=dataclasses.replace(cfg.keys, dir=_resolve(home, cfg.keys.dir)),
        inputs=inputs,
        source=source,
    )
