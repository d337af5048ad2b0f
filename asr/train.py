"""Training a recognizer from a resolved config: data, tokenizer, statistics, Lightning fit, then the export
(``asr.export``)."""

from __future__ import annotations

import itertools
import logging
import os
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch import loggers as pl_loggers
from lightning.pytorch.callbacks import Callback, LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.loggers import Logger

from asr.audio import AudioError
from asr.checkpoints import AtomicCheckpointIO, LastCheckpoint
from asr.config import plain
from asr.data.datamodule import ASRDataModule
from asr.data.dataset import LabeledSet, select_trainable
from asr.data.manifest import Manifest, read_manifests
from asr.export import best_checkpoints, export_model
from asr.features import FeatureConfig
from asr.model import SpeechRecognizer
from asr.model_file import LoadedModel, load_model
from asr.module import ASRModule
from asr.outputs import remove_partials
from asr.precision import AUTO, FLOAT32, choose_precision
from asr.run_folder import CHECKPOINTS, MODEL_FILE, claim_output_dir, is_first_process
from asr.run_record import write_run_record
from asr.schema import LOGGERS, DataConfig, TrainConfig, train_config
from asr.text import Tokenizer, UnspellableError, build_tokenizer, normalize_text

log = logging.getLogger(__name__)
# The `lightning` package prints through a console handler of its own; send its records
# to the handlers the application configured (Hydra's console and log file) instead.
logging.getLogger("lightning").handlers.clear()
# ASRDataModule's checkpointed state resumes a run mid-epoch; Lightning only knows of data loaders
# that save a state of their own, and would warn that resuming mid-epoch is unreliable.
warnings.filterwarnings("ignore", message="You're resuming from a checkpoint that ended before the epoch ended")


def _stats_waveforms(manifest: Manifest, features: FeatureConfig) -> Iterator[torch.Tensor]:
    """The readable waveforms of (a prefix of) the training manifest that normalization statistics come from."""
    for utt in itertools.islice(manifest.utterances, features.stats_max_utterances):
        try:
            yield utt.audio.load(features.sample_rate)
        except AudioError as e:
            log.warning("normalization statistics: skipping %s", e)


def _labeled(
    manifest: Manifest,
    tokenizer: Tokenizer,
    module: ASRModule,
    data: DataConfig,
    max_speedup: float,
    scored: bool = False,
) -> LabeledSet:
    """The rows of ``manifest`` the model can learn from, even when augmentation shortens them ``max_speedup`` times;
    ``scored`` (validation) also keeps rows with characters outside the vocabulary (see ``select_trainable``)."""
    recognizer = module.recognizer

    def output_frames(seconds: float) -> int:
        return recognizer.output_frames(int(seconds * recognizer.sample_rate / max_speedup))

    return select_trainable(manifest, tokenizer, output_frames, data.max_duration or float("inf"), scored)


def _spelled(text: str) -> str | None:
    """``text`` normalized, or None for a number whose reading is unclear (``select_trainable`` reports the row)."""
    try:
        return normalize_text(text)
    except UnspellableError:
        return None


def _covers(tokenizer: Tokenizer, texts: Sequence[str]) -> bool:
    """Whether ``tokenizer`` encodes every text."""
    try:
        for text in texts:
            tokenizer.encode(text)
    except ValueError:
        return False
    return True


def init_weights(recognizer: SpeechRecognizer, base: LoadedModel, name: str, same_tokenizer: bool) -> None:
    """Fine-tuning: ``recognizer`` takes ``base``'s weights and normalization statistics; with another
    tokenizer its output layer keeps its fresh initialization. Architectures must match."""
    state = base.recognizer.state_dict()
    if not same_tokenizer:
        state = {k: v for k, v in state.items() if not k.startswith("acoustic.output.")}
        log.warning(
            "init_from %s: its tokenizer does not cover the training text; a new tokenizer is built and the "
            "output layer is re-initialized (%d symbols)",
            name,
            recognizer.acoustic.output.out_features,
        )
    own = recognizer.state_dict()
    differing = [k for k, v in state.items() if k in own and own[k].shape != v.shape]
    differing += sorted(set(own) - set(state) - {k for k in own if k.startswith("acoustic.output.")})
    if differing:
        raise ValueError(
            f"init_from {name}: its architecture differs from the recipe's (features and model must match the "
            f"model file's {base.config['model']}); first differing weight: {differing[0]}"
        )
    recognizer.load_state_dict(state, strict=same_tokenizer)
    log.info("init_from %s: weights and normalization statistics loaded", name)


def _loggers(config: TrainConfig, output_dir: Path) -> list[Logger]:
    """The Lightning loggers the config names, each writing under ``output_dir`` (W&B and MLflow: where they
    are told to, by their own keyword arguments)."""
    made = []
    for name, options in config.loggers.items():
        cls = getattr(pl_loggers, LOGGERS[name][0])
        defaults = {"save_dir": str(output_dir), "name": name} if name in ("tensorboard", "csv") else {}
        made.append(cls(**{**defaults, **options}))
    return made


def train(
    config: TrainConfig | Mapping[str, Any], output_dir: str | os.PathLike, callbacks: Sequence[Callback] = ()
) -> Path:
    """Fit a model as ``config`` says; write checkpoints, logs and ``model.pt`` to ``output_dir``.

    ``model.pt`` is exported from the checkpoint with the best validation WER, or with
    ``average_best: N`` from the mean weights of the N best (checkpoint averaging, as
    ESPnet and icefall do: it smooths out the last epochs' noise).

    ``callbacks`` are extra Lightning callbacks, for users driving training from Python.
    ``config`` is checked against ``TrainConfig`` first (``ConfigError`` names a bad key).
    """
    output_dir = Path(output_dir)
    config = train_config(config)
    if is_first_process():
        claim_output_dir(output_dir, config.resume, config.overwrite)
        for folder in (output_dir, output_dir / CHECKPOINTS):  # what a killed run was writing
            remove_partials(folder)
    L.seed_everything(config.seed, workers=True)
    settings = config.trainer
    precision = choose_precision(
        settings.get("precision", FLOAT32), settings.get("accelerator", AUTO), config.model.hidden_size
    )
    # The run record (config.yaml), the checkpoints and Lightning see the precision chosen, not "auto".
    config.trainer = {**settings, "precision": precision.value}
    log.info("precision: %s", precision)
    data, features, augment = config.data, config.features, config.augment
    train_manifest, val_manifest = read_manifests(data.train_manifest), read_manifests(data.val_manifest)
    texts = [sentence for u in train_manifest.utterances if (sentence := _spelled(u.text)) is not None]
    base = load_model(config.init_from) if config.init_from else None
    if base is not None and _covers(base.tokenizer, texts):
        tokenizer = base.tokenizer
        log.info("init_from %s: its tokenizer covers the training text and is kept", config.init_from)
    else:
        tokenizer = build_tokenizer(config.tokenizer, texts)
    log.info("tokenizer: %s, %d symbols %s", tokenizer.kind, len(tokenizer.symbols), tokenizer.symbols)

    resolved = plain(config)
    module = ASRModule(
        config.features, config.model, tokenizer, config.optim, config.augment, config.compile, record=resolved
    )
    if base is None:
        module.recognizer.frontend.fit_stats(_stats_waveforms(train_manifest, features))
    else:
        init_weights(module.recognizer, base, config.init_from, same_tokenizer=tokenizer is base.tokenizer)
    speeds = list(augment.speed_perturb)
    datamodule = ASRDataModule(
        train=_labeled(train_manifest, tokenizer, module, data, max(speeds, default=1.0) * module.augment.tempo.high),
        val=_labeled(val_manifest, tokenizer, module, data, 1.0, scored=True),
        sample_rate=features.sample_rate,
        max_batch_seconds=data.max_batch_seconds,
        max_batch_size=data.max_batch_size,
        num_workers=data.num_workers,
        speed_perturb=speeds,
        gain_db=augment.gain_db,
        edge_silence=augment.edge_silence,
        seed=config.seed,
        sorted_epochs=data.sorted_epochs,
    )
    checkpoints = output_dir / CHECKPOINTS
    best_checkpoint = ModelCheckpoint(
        dirpath=checkpoints,
        filename="best-{epoch:02d}-{val_wer:.4f}",
        monitor="val_wer",
        mode="min",
        save_top_k=config.average_best,
    )
    # last.ckpt after every validation, epoch and N optimizer steps: a killed run loses at most N steps.
    last = LastCheckpoint(checkpoints, config.checkpoint_every_n_steps)
    callbacks = [best_checkpoint, last, LearningRateMonitor(logging_interval="step"), *callbacks]
    trainer = L.Trainer(
        **{
            **config.trainer,
            "default_root_dir": str(output_dir),
            "callbacks": callbacks,
            "logger": _loggers(config, output_dir),
            "plugins": [AtomicCheckpointIO()],
            # Batches are split across ranks by DurationBatchSampler itself.
            "use_distributed_sampler": False,
        }
    )
    if trainer.is_global_zero:
        write_run_record(output_dir, resolved)
    trainer.fit(module, datamodule=datamodule, ckpt_path=config.resume, weights_only=True)
    model_path = output_dir / MODEL_FILE
    if trainer.is_global_zero:
        best = best_checkpoints(checkpoints, best_checkpoint.best_k_models, config.average_best)
        export_model(model_path, best, val_manifest.utterances, module=module, config=resolved)
    return model_path
