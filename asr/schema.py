"""The training config's schema: ``TrainConfig`` and the sections that have no module of their own.

Each config group's schema lives beside the code it configures (``FeatureConfig`` in
``asr.features``, ``ModelConfig`` in ``asr.model``, ``AugmentConfig`` in ``asr.augment``,
the tokenizer and decoder schemas beside them); ``TrainConfig`` composes them and holds
every default. ``register`` puts them in Hydra's ConfigStore, where ``conf/train.yaml``
and the group files extend them, so Hydra itself rejects an unknown key or a wrong type;
``train_config`` then catches missing values and what only the code can judge (each
schema's ``__post_init__``).
``trainer`` is passed to ``lightning.Trainer`` as it is.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import MISSING, DictConfig

from asr.augment import AugmentConfig
from asr.config import CONF_DIR, ConfigError, check_decoder, describe, hydra_error_line, structured
from asr.decoding import BeamSearchOptions, GreedyConfig
from asr.features import FeatureConfig
from asr.model import ModelConfig
from asr.text.tokenizer import TOKENIZER_SCHEMAS, tokenizer_config

# Training loggers a config may name (``loggers.NAME={...}``): the Lightning class and the package it needs.
LOGGERS = {
    "tensorboard": ("TensorBoardLogger", "tensorboard"),
    "csv": ("CSVLogger", None),
    "wandb": ("WandbLogger", "wandb"),
    "mlflow": ("MLFlowLogger", "mlflow"),
}


@dataclass
class DataConfig:
    """The ``data`` config section (conf/data/): JSON-lines manifests and batching."""

    train_manifest: Any = MISSING  # a manifest, or a list of them read as one
    val_manifest: Any = MISSING  # the same
    max_batch_seconds: float = 120.0  # padded audio per batch (longest utterance x count)
    max_batch_size: int = 64
    max_duration: float | None = 30.0  # longer training utterances are skipped (counted in the log)
    num_workers: int = 2
    sorted_epochs: int = 0  # the first N epochs shortest utterance first (SortaGrad), the rest shuffled

    def __post_init__(self) -> None:
        for name in ("train_manifest", "val_manifest"):
            value = getattr(self, name)
            paths = value if isinstance(value, list) else [value]
            if not paths or not all(isinstance(p, str) and p for p in paths):
                raise ConfigError(f"data.{name}={value!r}: expected a manifest path or a list of them")
        if self.sorted_epochs < 0:
            raise ConfigError(f"data.sorted_epochs={self.sorted_epochs}: expected 0 or more epochs")


@dataclass
class OptimConfig:
    """The ``optim`` config section (conf/optim/): AdamW, linear warmup, cosine decay to ``min_lr_ratio * lr``."""

    lr: float = 1.0e-3
    betas: list[float] = field(default_factory=lambda: [0.9, 0.98])
    weight_decay: float = 1.0e-2
    warmup_steps: int = 200
    min_lr_ratio: float = 0.05


@dataclass
class TrainConfig:
    """A whole training run (conf/train.yaml composes it from the groups)."""

    features: FeatureConfig = field(default_factory=FeatureConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    # One of TOKENIZER_SCHEMAS (char, sentencepiece, word).
    tokenizer: Any = field(default_factory=lambda: {"type": "char"})
    data: DataConfig = field(default_factory=DataConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    trainer: dict[str, Any] = field(default_factory=dict)  # lightning.Trainer(**trainer), as it is
    decoder: Any = field(default_factory=lambda: {"type": "greedy"})  # saved into the model file
    seed: int = 0
    output_dir: str = "exp/${now:%Y-%m-%d_%H-%M-%S}"
    init_from: str | None = None  # fine-tuning: start from this model file's weights, statistics and tokenizer
    resume: str | None = None  # a Lightning checkpoint (e.g. ${output_dir}/checkpoints/last.ckpt) to continue from
    overwrite: bool = False  # start afresh in an output_dir holding another run (its checkpoints, logs, model removed)
    checkpoint_every_n_steps: int | None = None  # also write checkpoints/last.ckpt every N optimizer steps
    compile: bool = False  # torch.compile the acoustic model
    average_best: int = 1  # model.pt from the mean weights of this many best checkpoints (by dev WER)
    # Lightning loggers by name (tensorboard, csv, wandb, mlflow), each with its keyword arguments.
    loggers: dict[str, dict[str, Any]] = field(default_factory=lambda: {"tensorboard": {}, "csv": {}})

    def __post_init__(self) -> None:
        if isinstance(self.tokenizer, Mapping):
            self.tokenizer = tokenizer_config(self.tokenizer)
        if isinstance(self.decoder, Mapping):
            self.decoder = check_decoder(self.decoder)
        if not isinstance(self.average_best, int) or self.average_best < 1:
            raise ConfigError(
                f"average_best={self.average_best!r}: expected how many of the best checkpoints to average (1 or more)"
            )
        if self.init_from is not None and not Path(self.init_from).is_file():
            raise ConfigError(f"init_from={self.init_from}: no such model file")
        if self.resume is not None and not Path(self.resume).is_file():
            raise ConfigError(f"resume={self.resume}: no such checkpoint")
        for name in self.loggers:
            if name not in LOGGERS:
                raise ConfigError(f"loggers.{name}: unknown logger (available: {', '.join(LOGGERS)})")
            package = LOGGERS[name][1]
            if package and importlib.util.find_spec(package) is None:
                raise ConfigError(f"loggers.{name}: needs the {package} package (pip install {package})")


def train_config(values: TrainConfig | Mapping[str, Any]) -> TrainConfig:
    """A training config checked against ``TrainConfig``; raises ``ConfigError`` naming the key."""
    from hydra.core.utils import setup_globals

    setup_globals()  # the ${now:...} of the default output_dir
    return structured(TrainConfig, values)


def compose(config_dir: str | os.PathLike, config_name: str, overrides: Sequence[str] = ()) -> TrainConfig:
    """The training config that ``asr train`` composes from ``config_name`` (a recipe in ``config_dir``,
    or conf/train.yaml) and Hydra overrides, checked; raises ``ConfigError`` with one line."""
    return train_config(composed(config_dir, config_name, overrides))


def composed(config_dir: str | os.PathLike, config_name: str, overrides: Sequence[str] = ()) -> DictConfig:
    """What Hydra composes for ``compose``, typed by the schemas (unknown keys and wrong types are
    ``ConfigError``s) but not yet checked for missing values."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    register()
    search = [f"hydra.searchpath=[file://{CONF_DIR}]"] if Path(config_dir).resolve() != CONF_DIR.resolve() else []
    try:
        with initialize_config_dir(config_dir=str(Path(config_dir).resolve()), version_base="1.3"):
            config = hydra_compose(config_name, overrides=[*search, *overrides])
    except (HydraException, OmegaConfBaseException) as e:
        raise ConfigError(hydra_error_line(e) if isinstance(e, HydraException) else describe(e)) from None
    return config


def register() -> None:
    """Put the schemas in Hydra's ConfigStore: ``train_schema`` for conf/train.yaml, and one per
    tokenizer and decoder type for the group files (``tokenizer/char_schema``, ``decoder/beam_schema``, ...)."""
    from hydra.core.config_store import ConfigStore

    store = ConfigStore.instance()
    store.store(name="train_schema", node=TrainConfig)
    for group, schemas in (
        ("tokenizer", TOKENIZER_SCHEMAS),
        ("decoder", {"greedy": GreedyConfig, "beam": BeamSearchOptions}),
    ):
        for name, schema in schemas.items():
            store.store(group=group, name=f"{name}_schema", node=schema)
