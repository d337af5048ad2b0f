"""Where the Hydra config groups live, checking config values against their schemas, and decoder overrides.

Every config section has a dataclass schema that lives beside the code it configures
(``FeatureConfig`` in ``asr.features``, ``ModelConfig`` in ``asr.model``, ...); the
schema holds the defaults. ``structured`` turns plain values (a YAML section, a model
file's dict, keyword arguments) into that dataclass, or raises ``ConfigError`` with one
line naming the key and what was expected. This module imports no torch: the command
line reads it before deciding what to load.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, MissingMandatoryValue, OmegaConfBaseException

_UNKNOWN_KEY = (ConfigKeyError, ConfigAttributeError)

T = TypeVar("T")


def _conf_dir() -> Path:
    """The Hydra config groups: ``asr/conf`` in an installed wheel, ``conf/`` beside the package in a checkout."""
    package = Path(__file__).resolve().parent
    installed = package / "conf"
    return installed if installed.is_dir() else package.parent / "conf"


CONF_DIR = _conf_dir()


class ConfigError(ValueError):
    """A config value that its schema does not accept: an unknown key, a wrong type or a missing value."""


def _schema_keys(schema: type, path: list[str]) -> list[str] | None:
    """The keys the (nested) dataclass at ``path`` inside ``schema`` takes, if it is one."""
    for name in path:
        types = {f.name: f.default_factory for f in dataclasses.fields(schema)}  # nested sections are factories
        factory = types.get(name)
        if not (dataclasses.is_dataclass(factory) and isinstance(factory, type)):
            return None
        schema = factory
    return [f.name for f in dataclasses.fields(schema)]


def describe(error: OmegaConfBaseException, prefix: str = "") -> str:
    """One line for an OmegaConf error: the full key and what was wrong or expected."""
    key = prefix + (error.full_key or "")
    message = str(error.msg if hasattr(error, "msg") else error).splitlines()[0]
    if isinstance(error, MissingMandatoryValue):
        return f"{key}: no value given (set {key}=...)"
    if isinstance(error, _UNKNOWN_KEY) and key.startswith("decoder.") and key.count(".") == 1:
        kind = {schema: name for name, schema in decoder_schemas().items()}.get(error.object_type)
        if kind:
            return _decoder_key_message(kind, key.partition(".")[2])
    if isinstance(error, _UNKNOWN_KEY):
        takes = ""
        if dataclasses.is_dataclass(error.object_type):
            names = ", ".join(f.name for f in dataclasses.fields(error.object_type))
            takes = f" ({error.object_type.__name__} takes: {names})"
        else:
            takes = f" (to add one: +{key}=...)"
        return f"{key}: unknown key{takes}"
    return f"{key}: {message}"


def structured(schema: type[T], values: Mapping[str, Any] | T | None = None, where: str = "") -> T:
    """``values`` checked against the dataclass ``schema``, missing keys taken from its defaults.

    ``where`` prefixes key names in errors (``"model."``); raises ``ConfigError``.
    """
    if isinstance(values, schema):
        return values
    try:
        if isinstance(values, DictConfig) and OmegaConf.get_type(values) is schema:  # composed on the schema
            return OmegaConf.to_object(values)
        given = dict(values or {})
        config = OmegaConf.merge(OmegaConf.structured(schema), OmegaConf.create(given))
        hints = typing.get_type_hints(schema)
        for name in given:  # a mapping given for a dict-typed key replaces the default, as in YAML
            if typing.get_origin(hints.get(name)) is dict:
                config[name] = given[name]
        return OmegaConf.to_object(config)
    except OmegaConfBaseException as e:
        raise ConfigError(describe(e, where)) from None


def check_type(section: str, given: str, expected: str) -> None:
    """A schema's ``type`` field names the schema: another value is chosen with ``SECTION=NAME``, not here."""
    if given != expected:
        raise ConfigError(
            f"{section}.type={given}: this is the {expected} schema; choose another with {section}={given}"
        )


def plain(config: Any) -> Any:
    """A config dataclass (or a container of them) as plain dicts and lists, as model files store it."""
    return OmegaConf.to_container(OmegaConf.structured(config)) if dataclasses.is_dataclass(config) else config


def is_decoder_override(arg: str) -> bool:
    """``decoder=NAME`` or ``decoder.KEY=VALUE``, as Hydra writes them."""
    key = arg.partition("=")[0]
    return "=" in arg and (key == "decoder" or key.startswith("decoder."))


def decoder_schemas() -> dict[str, type]:
    """Each decoder ``type`` and its schema (importing the decoders loads torch)."""
    from asr.decoding.beam import BeamSearchOptions
    from asr.decoding.greedy import GreedyConfig

    return {"greedy": GreedyConfig, "beam": BeamSearchOptions}


def check_decoder(values: Mapping[str, Any]) -> Any:
    """A ``decoder`` section as its type's schema; a key that only another decoder takes says which."""
    schemas = decoder_schemas()
    kind = values.get("type", "greedy")
    if kind not in schemas:
        raise ConfigError(f"decoder={kind}: no such decoder (available: {', '.join(sorted(schemas))})")
    names = {f.name for f in dataclasses.fields(schemas[kind])}
    for key in values:
        if key not in names:
            raise ConfigError(_decoder_key_message(kind, key))
    return structured(schemas[kind], values, "decoder.")


def _decoder_key_message(kind: str, key: str) -> str:
    """``decoder.KEY`` is not a setting of decoder ``kind``: which decoder takes it, if any."""
    schemas = {name: [f.name for f in dataclasses.fields(s)] for name, s in decoder_schemas().items()}
    owners = [name for name, keys in schemas.items() if key in keys]
    needs = f"needs decoder={' or decoder='.join(owners)}" if owners else "is not a decoder setting"
    return f"decoder.{key} {needs} (decoder={kind} takes: {', '.join(sorted(schemas[kind]))})"


def hydra_error_line(error: Exception) -> str:
    """One line for an error Hydra raised while composing a config from its files and overrides."""
    cause = error.__cause__ or error.__context__  # Hydra re-raises OmegaConf errors without "from"
    if isinstance(cause, OmegaConfBaseException) and getattr(cause, "full_key", None):
        return describe(cause)
    missing = getattr(error, "missing_cfg_file", None)
    if missing and "/" in missing:  # an unknown option of a config group
        group, _, name = missing.rpartition("/")
        options = [o for o in getattr(error, "options", None) or [] if not o.endswith("_schema")]
        return f"{group}={name}: no such {group} (available: {', '.join(options)})"
    return " ".join(line.strip() for line in str(error).splitlines() if line.strip())


def decoder_config(saved: Mapping[str, Any], overrides: list[str]) -> Any:
    """The model's saved decoder settings, or the defaults of the decoder that ``decoder=NAME`` names,
    with ``decoder.KEY=VALUE`` overrides applied on top, checked against that decoder's schema."""
    config: dict[str, Any] = dict(saved)
    keys = []
    for arg in overrides:
        if not is_decoder_override(arg):
            raise ConfigError(f"{arg!r}: expected decoder=NAME or decoder.KEY=VALUE")
        key, _, value = arg.partition("=")
        if key == "decoder":
            config = {"type": value}
        else:
            keys.append(arg[len("decoder.") :])
    try:
        extra = OmegaConf.to_container(OmegaConf.from_dotlist(keys), resolve=True)
    except OmegaConfBaseException as e:
        raise ConfigError(describe(e, "decoder.")) from None
    return check_decoder({**config, **extra})
