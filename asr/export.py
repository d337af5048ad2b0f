"""A training run's model file: its best checkpoints averaged, the word-time frame offset measured, model.pt written.

Training ends with ``export_model``; ``asr export-run RUN_DIR`` reruns it on a run's
folder (another ``--average``, another dev set) without retraining. Checkpoints are
read with ``weights_only=True`` and only from the run's own ``checkpoints/`` folder:
the best-checkpoint list a checkpoint carries names paths from a file, so it is
filtered through ``inside``, and ``export-run`` lists the folder itself.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from asr.checkpoints import average_weights, inside, load_checkpoint
from asr.data.manifest import Utterance
from asr.model_file import LoadedModel, save_model
from asr.module import ASRModule
from asr.word_timing import calibrate_frame_offset

log = logging.getLogger(__name__)

# The best checkpoints ModelCheckpoint writes in a run's checkpoints/ folder (see asr.train).
BEST_PATTERN = "best-*.ckpt"
EXPORTED_SECTIONS = ("features", "model", "decoder")


class ExportError(ValueError):
    """A run folder has nothing to export."""


def best_checkpoints(folder: str | os.PathLike, scores: Mapping[str, float], count: int) -> list[str]:
    """The ``count`` paths of ``scores`` with the lowest score (dev WER) that are files directly in ``folder``."""
    return inside(folder, sorted(scores, key=lambda path: float(scores[path])))[:count]


def saved_scores(folder: str | os.PathLike) -> dict[str, float]:
    """The dev WER each best checkpoint in ``folder`` was saved with (its ModelCheckpoint's ``current_score``);
    a checkpoint that cannot be read or holds no score, or a link out of ``folder``, is logged and left out."""
    scores = {}
    for path in inside(folder, sorted(Path(folder).glob(BEST_PATTERN))):
        try:
            callbacks = load_checkpoint(path)["callbacks"]
            (state,) = [state for key, state in callbacks.items() if str(key).startswith("ModelCheckpoint")]
            scores[path] = float(state["current_score"])
        except Exception as e:  # torch raises many types for corrupt files; a missing key or several callbacks
            log.warning("ignoring checkpoint %s: no readable dev score (%s: %s)", path, type(e).__name__, e)
    return scores


def average_checkpoints(paths: Sequence[str | os.PathLike]) -> ASRModule:
    """The module of ``paths[0]`` with every floating-point weight replaced by its mean over all ``paths``."""
    module = ASRModule.from_checkpoint(paths[0])
    if len(paths) > 1:
        others = [load_checkpoint(path)["state_dict"] for path in paths[1:]]
        module.load_state_dict(average_weights([module.state_dict(), *others]))
    return module


def word_time_offset(model: LoadedModel, dev: Sequence[Utterance]) -> float | None:
    """The word-time frame offset measured on the ``dev`` rows that have reference word times, if enough do."""
    offset = calibrate_frame_offset(model, dev)
    if offset is None:
        log.info("word times: too few dev words with reference times to calibrate on; default frame offset")
    else:
        log.info("word times: frame offset %.3f s, measured on the dev set's reference word times", offset)
    return offset


def export_model(
    path: str | os.PathLike,
    checkpoints: Sequence[str | os.PathLike],
    dev: Sequence[Utterance],
    module: ASRModule | None = None,
    config: Mapping[str, Any] | None = None,
) -> Path:
    """Write the model file ``path`` from the mean weights of ``checkpoints`` (or from ``module`` when there are
    none), with the frame offset measured on ``dev``. ``config`` (default: the one the checkpoints were trained
    with) gives the features, model and decoder sections the model file carries."""
    if checkpoints:
        module = average_checkpoints(checkpoints)
    elif module is None:
        raise ExportError(f"{path}: no checkpoints to export")
    config = module.hparams["config"] if config is None else config
    exported = {key: config[key] for key in EXPORTED_SECTIONS}
    recognizer = module.recognizer.eval()
    offset = word_time_offset(LoadedModel(recognizer, module.tokenizer, exported), dev)
    save_model(path, recognizer, module.tokenizer, exported, frame_offset=offset)
    log.info("wrote %s (from %s)", path, " + ".join(map(str, checkpoints)) or "the final weights")
    return Path(path)
