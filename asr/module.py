"""The LightningModule: CTC training with batch augmentation, AdamW with warmup and cosine decay, validation WER/CER."""

from __future__ import annotations

import math
from typing import Any

import lightning as L
import torch
from torchmetrics.text import CharErrorRate, WordErrorRate

from asr.augment import BatchAugment
from asr.decoding import GreedyDecoder
from asr.model import build_recognizer
from asr.text import tokenizer_from_dict
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
    """Trains a ``SpeechRecognizer``; ``config`` holds the resolved features/model/optim sections."""

    def __init__(self, config: dict[str, Any], tokenizer: dict[str, Any]):
        super().__init__()
        self.save_hyperparameters()
        self.tokenizer = tokenizer_from_dict(tokenizer)
        self.recognizer = build_recognizer(config["features"], config["model"], self.tokenizer.vocab_size)
        if config.get("compile"):
            # In place: parameter names, checkpoints and the exported model file are those of the plain model.
            self.recognizer.acoustic.compile()
        self.augment = BatchAugment(config.get("augment") or {}, config["features"]["sample_rate"])
        self.ctc = torch.nn.CTCLoss(blank=BLANK_ID, zero_infinity=True)
        self.decoder = GreedyDecoder()
        self.val_wer = WordErrorRate()
        self.val_cer = CharErrorRate()
        self.failed_loads = 0

    def forward(self, wav: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.recognizer(wav, lengths)

    def _loss(self, batch: dict, augment: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        wav, lengths = batch["wav"], batch["wav_lengths"]
        if augment:
            wav = self.augment.waveforms(wav, lengths)
        feats, frames = self.recognizer.frontend(wav, lengths)
        if augment:
            feats, frames = self.augment.features(feats, frames)
        log_probs, out_lengths = self.recognizer.acoustic(feats, frames)
        loss = self.ctc(log_probs.transpose(0, 1).float(), batch["targets"], out_lengths, batch["target_lengths"])
        return loss, log_probs, out_lengths

    def _count_failed(self, batch: dict) -> None:
        if batch["failed"]:
            self.failed_loads += batch["failed"]
            self.log("skipped_audio", float(self.failed_loads), reduce_fx="max")

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor | None:
        self._count_failed(batch)
        if batch["wav"].numel() == 0:
            return None
        loss, _, _ = self._loss(batch, augment=True)
        size = batch["wav_lengths"].numel()
        self.log("train_loss", loss, prog_bar=True, batch_size=size)
        return loss

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        self._count_failed(batch)
        if batch["wav"].numel() == 0:
            return
        loss, log_probs, out_lengths = self._loss(batch, augment=False)
        hyps = [self.tokenizer.decode(h.tokens) for h in self.decoder.decode(log_probs, out_lengths)]
        refs = batch["texts"]  # the whole normalized text, characters the model cannot spell included
        self.val_wer.update(hyps, refs)
        self.val_cer.update(hyps, refs)
        size = len(hyps)
        self.log("val_loss", loss, sync_dist=True, batch_size=size)
        self.log("val_wer", self.val_wer, prog_bar=True, batch_size=size)
        self.log("val_cer", self.val_cer, batch_size=size)

    def configure_optimizers(self) -> dict:
        optim = self.hparams.config["optim"]
        params = [p for p in self.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(
            params, lr=optim["lr"], betas=tuple(optim["betas"]), weight_decay=optim["weight_decay"]
        )
        total = int(self.trainer.estimated_stepping_batches)
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, warmup_cosine(optim["warmup_steps"], total, optim["min_lr_ratio"])
        )
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}
