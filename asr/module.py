"""The LightningModule: CTC training with batch augmentation, AdamW with warmup and cosine decay, validation WER/CER."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

import lightning as L
import torch
from torchmetrics.text import CharErrorRate, WordErrorRate

from asr.augment import AugmentConfig, BatchAugment
from asr.checkpoints import load_checkpoint
from asr.config import plain, structured
from asr.decoding import GreedyDecoder
from asr.features import FeatureConfig
from asr.model import ModelConfig, build_recognizer
from asr.schema import OptimConfig
from asr.text import Tokenizer, tokenizer_from_dict
from asr.text.tokenizer import BLANK_ID


def warmup_cosine(warmup_steps: int, total_steps: int, min_ratio: float):
    """LR multiplier: linear warmup to 1, then cosine decay to ``min_ratio`` at ``total_steps``."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
        return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))

    return factor


class ASRModule(L.LightningModule):
    """Trains a ``SpeechRecognizer`` built from typed ``features`` and ``model`` sections: the CTC loss under
    batch augmentation, the AdamW setup and validation WER/CER.

    ``record`` (default: the typed sections as plain dicts) is the resolved config checkpoints carry, as plain
    values, so that checkpoints load with ``weights_only=True``; ``from_config`` rebuilds the module from one.
    """

    def __init__(
        self,
        features: FeatureConfig,
        model: ModelConfig,
        tokenizer: Tokenizer,
        optim: OptimConfig | None = None,
        augment: AugmentConfig | None = None,
        compile: bool = False,
        record: Mapping[str, Any] | None = None,
    ):
        super().__init__()
        self.optim = optim or OptimConfig()
        augment = augment or AugmentConfig()
        sections = {"features": features, "model": model, "optim": self.optim, "augment": augment, "compile": compile}
        config = dict(record) if record is not None else {k: plain(v) for k, v in sections.items()}
        self.save_hyperparameters({"config": config, "tokenizer": tokenizer.to_dict()})
        self.tokenizer = tokenizer
        self.recognizer = build_recognizer(features, model, tokenizer.vocab_size)
        if compile:
            # In place: parameter names, checkpoints and the exported model file are those of the plain model.
            self.recognizer.acoustic.compile()
        self.augment = BatchAugment(augment, features.sample_rate)
        self.ctc = torch.nn.CTCLoss(blank=BLANK_ID, zero_infinity=True)
        self.decoder = GreedyDecoder()
        self.val_wer = WordErrorRate()
        self.val_cer = CharErrorRate()
        self.failed_loads = 0

    @classmethod
    def from_config(cls, config: Mapping[str, Any], tokenizer: Tokenizer) -> ASRModule:
        """A module from a resolved config as plain values (a checkpoint's, a recipe's), its sections checked
        against their schemas (``ConfigError`` names a bad key); the whole config is what checkpoints carry."""
        return cls(
            structured(FeatureConfig, config["features"], "features."),
            structured(ModelConfig, config["model"], "model."),
            tokenizer,
            structured(OptimConfig, config.get("optim"), "optim."),
            structured(AugmentConfig, config.get("augment"), "augment."),
            bool(config.get("compile")),
            record=config,
        )

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike) -> ASRModule:
        """The module a Lightning checkpoint holds, on the CPU, read without unpickling code."""
        checkpoint = load_checkpoint(path)
        saved = checkpoint["hyper_parameters"]
        module = cls.from_config(saved["config"], tokenizer_from_dict(saved["tokenizer"]))
        module.load_state_dict(checkpoint["state_dict"])
        return module

    def forward(self, wav: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.recognizer(wav, lengths)

    def loss(self, batch: dict, augment: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The batch's mean CTC loss, with the log-probabilities and output lengths it came from; ``augment``
        applies the batch augmentation (waveforms, then features) as training does."""
        wav, lengths = batch["wav"], batch["wav_lengths"]
        if augment:
            wav = self.augment.waveforms(wav, lengths)
        feats, frames = self.recognizer.frontend(wav, lengths)
        if augment:
            feats, frames = self.augment.features(feats, frames)
        log_probs, out_lengths = self.recognizer.acoustic(feats, frames)
        loss = self.ctc(log_probs.transpose(0, 1).float(), batch["targets"], out_lengths, batch["target_lengths"])
        return loss, log_probs, out_lengths

    def training_flops(self, frames: torch.Tensor) -> float:
        """Model FLOPs of one training step on utterances of ``frames`` log-mel frames: the forward pass and a
        backward pass of twice its cost (``AcousticModel.forward_flops``)."""
        return 3 * self.recognizer.acoustic.forward_flops(frames)

    def _count_failed(self, batch: dict) -> None:
        if batch["failed"]:
            self.failed_loads += batch["failed"]
            self.log("skipped_audio", float(self.failed_loads), reduce_fx="max")

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor | None:
        self._count_failed(batch)
        if batch["wav"].numel() == 0:
            return None
        loss, _, _ = self.loss(batch, augment=True)
        size = batch["wav_lengths"].numel()
        self.log("train_loss", loss, prog_bar=True, batch_size=size)
        return loss

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        self._count_failed(batch)
        if batch["wav"].numel() == 0:
            return
        loss, log_probs, out_lengths = self.loss(batch, augment=False)
        hyps = [self.tokenizer.decode(h.tokens) for h in self.decoder.decode(log_probs, out_lengths)]
        refs = batch["texts"]  # the whole normalized text, characters the model cannot spell included
        self.val_wer.update(hyps, refs)
        self.val_cer.update(hyps, refs)
        size = len(hyps)
        self.log("val_loss", loss, sync_dist=True, batch_size=size)
        self.log("val_wer", self.val_wer, prog_bar=True, batch_size=size)
        self.log("val_cer", self.val_cer, batch_size=size)

    def optimizer(self) -> torch.optim.AdamW:
        """AdamW over the trainable weights, as ``optim`` says."""
        params = [p for p in self.parameters() if p.requires_grad]
        optim = self.optim
        return torch.optim.AdamW(params, lr=optim.lr, betas=tuple(optim.betas), weight_decay=optim.weight_decay)

    def configure_optimizers(self) -> dict:
        optimizer = self.optimizer()
        total = int(self.trainer.estimated_stepping_batches)
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, warmup_cosine(self.optim.warmup_steps, total, self.optim.min_lr_ratio)
        )
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}
