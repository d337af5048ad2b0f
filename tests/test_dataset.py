import json
import logging

import pytest
import torch
from audio_utils import tone, write_wav
from training_utils import tiny_config

from asr.data.dataset import UtteranceDataset, collate, ctc_min_frames, select_trainable
from asr.data.manifest import read_manifest
from asr.module import ASRModule
from asr.text import CharTokenizer


def test_ctc_min_frames_counts_blanks_between_repeats():
    assert ctc_min_frames([1, 2, 3]) == 3
    assert ctc_min_frames([1, 1, 2, 2, 2]) == 8
    assert ctc_min_frames([]) == 0


def test_select_trainable_skips_and_counts_by_reason(tmp_path, caplog):
    rows = [
        {"audio_filepath": "a.wav", "duration": 2.0, "text": "one two"},
        {"audio_filepath": "b.wav", "duration": 2.0, "text": "one 2 \u00e9t\u00e9"},  # outside the vocabulary
        {"audio_filepath": "c.wav", "duration": 0.2, "text": "one two one two"},  # too short for CTC
        {"audio_filepath": "d.wav", "duration": 50.0, "text": "two"},  # too long
        {"audio_filepath": "e.wav", "duration": 2.0, "text": "one 1/2"},  # a number without a clear reading
        {"audio_filepath": "f.wav", "duration": 2.0, "text": "2 1"},  # numbers kept as the words "two one"
    ]
    path = tmp_path / "m.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    tokenizer = CharTokenizer.build(["one two"])
    with caplog.at_level(logging.WARNING):
        data = select_trainable(read_manifest(path), tokenizer, lambda s: int(s * 25), max_duration=30.0)
    assert [u.text for u in data.utterances] == ["one two", "2 1"]
    assert data.tokens == [tokenizer.encode("one two"), tokenizer.encode("two one")]
    assert "skipped 4 of 6" in caplog.text
    assert "1 text outside the vocabulary" in caplog.text and "1 too short" in caplog.text
    assert "e.wav: skipped: '1/2': ambiguous number" in caplog.text and "1 a number whose reading" in caplog.text


def test_unreadable_audio_is_dropped_from_the_batch_not_fatal(tmp_path):
    write_wav(tmp_path / "good.wav", tone(1.0))
    (tmp_path / "bad.wav").write_bytes(b"")
    rows = [{"audio_filepath": n, "duration": 1.0, "text": "ab"} for n in ("good.wav", "bad.wav", "missing.wav")]
    path = tmp_path / "m.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    tokenizer = CharTokenizer.build(["ab"])
    data = select_trainable(read_manifest(path), tokenizer, lambda s: 25)
    dataset = UtteranceDataset(data, 16000)
    batch = collate([dataset[i] for i in range(3)])
    assert batch["failed"] == 2
    assert batch["wav"].shape == (1, 16000) and batch["indices"].tolist() == [0]
    assert batch["targets"].tolist() == [tokenizer.encode("ab")]


def test_speed_perturbation_changes_length(tmp_path):
    write_wav(tmp_path / "a.wav", tone(1.0))
    path = tmp_path / "m.jsonl"
    path.write_text(json.dumps({"audio_filepath": "a.wav", "duration": 1.0, "text": "ab"}))
    data = select_trainable(read_manifest(path), CharTokenizer.build(["ab"]), lambda s: 25)
    # 0.9137: 14619 and 16000 Hz share no factor, which made a resampling kernel of gigabytes
    for speed, samples in ((1.1, 14545), (0.9, 17778), (1.0, 16000), (0.9137, 17511)):
        assert abs(UtteranceDataset(data, 16000, [speed])[0]["wav"].numel() - samples) <= 1


def test_edge_silence_surrounds_the_audio_with_random_zeros(tmp_path):
    write_wav(tmp_path / "a.wav", tone(1.0))
    path = tmp_path / "m.jsonl"
    path.write_text(json.dumps({"audio_filepath": "a.wav", "duration": 1.0, "text": "ab"}))
    data = select_trainable(read_manifest(path), CharTokenizer.build(["ab"]), lambda s: 25)
    plain = UtteranceDataset(data, 16000)[0]["wav"]
    dataset = UtteranceDataset(data, 16000, edge_silence=[0.1, 0.3])
    lengths = set()
    for _ in range(5):
        wav = dataset[0]["wav"]
        loud = (wav != 0).nonzero().flatten()
        before, after = loud[0].item(), wav.numel() - 1 - loud[-1].item()
        assert 1600 <= before <= 4800 and 1600 <= after <= 4800
        assert torch.equal(wav[before : before + plain.numel()], plain)
        lengths.add(wav.numel())
    assert len(lengths) > 1  # drawn anew for each use
    with pytest.raises(ValueError, match="edge_silence"):
        UtteranceDataset(data, 16000, edge_silence=[-0.5, 0.2])  # would cut the audio


def test_validation_scores_rows_with_characters_unseen_in_training(tmp_path):
    rows = [
        {"audio_filepath": "a.wav", "duration": 1.0, "text": "ab ba"},
        {"audio_filepath": "a.wav", "duration": 1.0, "text": "az zz"},
    ]
    path = tmp_path / "m.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    write_wav(tmp_path / "a.wav", tone(1.0))
    tokenizer = CharTokenizer.build(["ab ba"])
    assert len(select_trainable(read_manifest(path), tokenizer, lambda s: 25).utterances) == 1  # training
    data = select_trainable(read_manifest(path), tokenizer, lambda s: 25, scored=True)
    assert data.texts == ["ab ba", "az zz"] and tokenizer.decode(data.tokens[1]) == "a"

    module = ASRModule.from_config(tiny_config(path), tokenizer)
    batch = collate([UtteranceDataset(data, 16000)[i] for i in range(2)])
    module.validation_step(batch, 0)
    assert module.val_wer.total.item() == 4  # both rows' reference words, "az zz" included
