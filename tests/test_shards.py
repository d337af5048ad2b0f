"""``asr shard``: WebDataset tar shards of a manifest's audio, read back through the manifest written beside them."""

import json
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch
from training_utils import tiny_config

from asr.audio import AudioError, AudioSource
from asr.cli.main import main
from asr.data.dataset import UtteranceDataset, collate, select_trainable
from asr.data.manifest import read_manifest, write_manifest
from asr.evaluation import evaluate
from asr.inference import Transcriber
from asr.model_file import load_model
from asr.text import CharTokenizer
from asr.train import train

DIGITS = "zero one two three four five six seven eight nine".split()
TINY_MODEL = Path(__file__).parent / "fixtures" / "tiny_model.pt"


@pytest.fixture
def source(fsdd_dir: Path, tmp_path: Path) -> Path:
    """Six FSDD recordings (8 kHz, 16-bit) as a manifest; the last row is a 0.2 s segment with a dotted id."""
    rows = []
    for digit in range(6):
        path = fsdd_dir / f"{digit}_jackson_0.wav"
        rows.append(
            {
                "audio_filepath": str(path),
                "duration": AudioSource(str(path)).seconds(),
                "text": DIGITS[digit],
                "speaker": "jackson",
                "id": path.stem,
            }
        )
    rows[-1].update(offset=0.1, duration=0.2, id="jackson.segment")
    rows[0]["words"] = [{"word": "zero", "start": 0.05, "end": 0.4}]
    manifest = tmp_path / "src" / "digits.jsonl"
    write_manifest(manifest, rows)
    return manifest


def shard(*args: str) -> int:
    return main(["shard", *map(str, args)])


def test_shards_are_webdataset_tars_and_the_manifest_points_into_them(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "shards"
    assert shard(source, out) == 0
    rows = [json.loads(line) for line in (out / "digits.jsonl").read_text().splitlines()]
    assert len(rows) == 6 and {row["audio_filepath"] for row in rows} == {"shard-000000.tar"}
    assert all("offset" not in row for row in rows)
    with tarfile.open(out / "shard-000000.tar") as tar:
        members = tar.getmembers()
        names = [m.name for m in members]
        keys = [name.rsplit(".", 1)[0] for name in names[::2]]
        assert names == [f"{key}.{ext}" for key in keys for ext in ("flac", "json")]
        assert keys == sorted(keys) and "." not in "".join(keys)  # WebDataset keys end at the first dot
        assert keys[-1] == "00000005_jackson_segment"
        assert all(m.mtime == 0 and m.uid == 0 and m.uname == "" for m in members)
        for row, flac, meta in zip(rows, members[::2], members[1::2]):
            assert (row["archive_offset"], row["archive_size"]) == (flac.offset_data, flac.size)
            stored = json.loads(tar.extractfile(meta).read())
            assert stored == {k: row[k] for k in ("text", "duration", "speaker", "id", "words") if k in row}
    assert rows[0]["words"] == [{"word": "zero", "start": 0.05, "end": 0.4}]


def test_audio_through_the_shards_equals_the_source_rows(source: Path, tmp_path: Path) -> None:
    assert shard(source, tmp_path / "shards") == 0
    original, sharded = read_manifest(source).utterances, read_manifest(tmp_path / "shards" / "digits.jsonl").utterances
    for a, b in zip(original, sharded, strict=True):
        samples, rate = b.audio.read()
        assert rate == 8000
        assert np.array_equal(samples, a.audio.read()[0])  # 16-bit: exact
        assert torch.equal(a.audio.load(16000), b.audio.load(16000))
        assert b.audio.seconds() == samples.shape[0] / rate == b.duration
    segment = sharded[-1]
    assert segment.audio.offset == 0 and segment.duration == 0.2
    whole, _ = AudioSource(original[-1].audio_filepath).read()
    assert np.array_equal(segment.audio.read()[0], whole[800:2400])


def test_evaluating_the_sharded_manifest_gives_the_same_transcripts(source: Path, tmp_path: Path) -> None:
    assert shard(source, tmp_path / "shards") == 0
    transcriber = Transcriber(load_model(TINY_MODEL), device="cpu")
    reports = [
        evaluate(transcriber, read_manifest(path), tmp_path / f"{i}.jsonl")
        for i, path in enumerate([source, tmp_path / "shards" / "digits.jsonl"])
    ]
    assert not reports[1].failed and reports[1].utterances == 6
    hypotheses = [[json.loads(line)["hypothesis"] for line in open(tmp_path / f"{i}.jsonl")] for i in range(2)]
    assert hypotheses[0] == hypotheses[1]


def test_shard_size_reruns_and_stale_shards(source: Path, tmp_path: Path) -> None:
    small, again = tmp_path / "small", tmp_path / "again"
    assert shard(source, small, "--shard-size-mb", "0.01") == 0  # one utterance a shard
    assert shard(source, again, "--shard-size-mb", "0.01") == 0
    shards = sorted(p.name for p in small.glob("*.tar"))
    assert shards == [f"shard-{i:06d}.tar" for i in range(6)]
    assert all((small / name).read_bytes() == (again / name).read_bytes() for name in shards)
    assert (small / "digits.jsonl").read_text() == (again / "digits.jsonl").read_text()
    assert shard(source, small, "--format", "wav") == 0  # a rerun with one shard removes the stale ones
    assert sorted(p.name for p in small.glob("*.tar")) == ["shard-000000.tar"]
    with tarfile.open(small / "shard-000000.tar") as tar:
        assert tar.getnames()[0].endswith(".wav")
    assert shard(source, tmp_path / "src") == 2  # never over the manifest being sharded
    write_manifest(small / "other.jsonl", [])
    assert shard(source, small) == 2  # one folder per manifest


def test_unreadable_rows_are_skipped_named_and_counted(source: Path, tmp_path: Path, capsys) -> None:
    garbage = tmp_path / "src" / "garbage.wav"
    garbage.write_bytes(b"RIFF not audio at all" * 20)
    rows = [json.loads(line) for line in source.read_text().splitlines()]
    rows += [{"audio_filepath": name, "duration": 1.0, "text": "one"} for name in ("garbage.wav", "missing.wav")]
    write_manifest(source, rows)
    assert shard(source, tmp_path / "shards") == 1
    err = capsys.readouterr().err
    assert f"{garbage}: cannot decode audio" in err and "missing.wav: no such audio file" in err
    assert "skipped 2 row(s)" in err
    assert len(read_manifest(tmp_path / "shards" / "digits.jsonl")) == 6


def test_a_truncated_shard_names_shard_and_offset_and_the_dataset_skips_the_row(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "shards"
    assert shard(source, out) == 0
    manifest = read_manifest(out / "digits.jsonl")
    tar, (start, size) = out / "shard-000000.tar", manifest.utterances[-1].audio.byte_range
    with open(tar, "r+b") as f:
        f.truncate(start + size // 2)
    with pytest.raises(AudioError, match=rf"shard-000000.tar at byte {start}: truncated, {size // 2} of {size} bytes"):
        manifest.utterances[-1].audio.load(16000)
    rows = [json.loads(line) for line in (out / "digits.jsonl").read_text().splitlines()]
    rows[0]["archive_offset"] = start + size
    write_manifest(out / "digits.jsonl", rows)
    with pytest.raises(AudioError, match=rf"at byte {start + size}: offset past the end of the file"):
        read_manifest(out / "digits.jsonl").utterances[0].audio.load(16000)

    data = select_trainable(read_manifest(out / "digits.jsonl"), CharTokenizer.build(DIGITS), lambda s: 100)
    batch = collate([UtteranceDataset(data, 16000)[i] for i in range(len(data.utterances))])
    assert batch["failed"] == 2 and batch["indices"].tolist() == [1, 2, 3, 4]


def test_a_few_training_steps_on_the_sharded_manifest(source: Path, tmp_path: Path) -> None:
    assert shard(source, tmp_path / "shards") == 0
    config = tiny_config(tmp_path / "shards" / "digits.jsonl", max_steps=2)
    config["data"]["num_workers"] = 1  # the dataset reads shards in a worker process too
    assert train(config, tmp_path / "exp").is_file()
    assert torch.load(tmp_path / "exp" / "checkpoints" / "last.ckpt", weights_only=False)["global_step"] == 2


def test_archive_fields_must_come_together_as_a_byte_range(tmp_path: Path) -> None:
    rows = [
        {"audio_filepath": "s.tar", "duration": 1.0, "text": "a", "archive_offset": 512, "archive_size": 100},
        {"audio_filepath": "s.tar", "duration": 1.0, "text": "a", "archive_offset": 512},
        {"audio_filepath": "s.tar", "duration": 1.0, "text": "a", "archive_offset": -1, "archive_size": 100},
        {"audio_filepath": "s.tar", "duration": 1.0, "text": "a", "archive_offset": 512, "archive_size": 1.5},
    ]
    (tmp_path / "m.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    manifest = read_manifest(tmp_path / "m.jsonl")
    assert [u.audio.byte_range for u in manifest.utterances] == [(512, 100)]
    assert [line for line, _ in manifest.skipped] == [2, 3, 4]


def test_sharding_into_the_folder_its_rows_read_from_is_refused(source: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "shards"
    assert shard(source, out) == 0
    tar = (out / "shard-000000.tar").read_bytes()
    copy = tmp_path / "again" / "digits.jsonl"  # the sharded manifest, elsewhere, sharded back into its shards' folder
    rows = [json.loads(line) for line in (out / "digits.jsonl").read_text().splitlines()]
    write_manifest(copy, [row | {"audio_filepath": str(out / "shard-000000.tar")} for row in rows])
    assert shard(copy, out) == 2
    assert "holds audio the manifest reads" in capsys.readouterr().err
    assert (out / "shard-000000.tar").read_bytes() == tar
