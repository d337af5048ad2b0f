"""Sharded archives: a manifest's audio packed into WebDataset tar shards, for corpora on slow or remote storage.

Each utterance becomes two members of an uncompressed tar, ``<key>.flac`` (its
audio, its segment cut out, at its own sample rate and channels as 16-bit FLAC)
and ``<key>.json`` (text, duration, speaker, id, words), in manifest order; a
new shard starts where the next utterance would take one past ``shard_size_mb``
megabytes. Any WebDataset reader streams the shards. The manifest written
beside them points each row at its shard (``audio_filepath``) and at its audio
member's bytes there (``archive_offset``, ``archive_size``), so ``asr`` reads an
utterance with one seek and one read of a large file instead of opening a small
one, and random access, duration bucketing and resuming work as with files.
Members carry no time or owner, so a rerun writes identical bytes.
"""

from __future__ import annotations

import io
import json
import os
import re
import sys
import tarfile
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import soundfile as sf
from tqdm import tqdm

from asr.audio import AudioError, to_pcm16
from asr.data.manifest import Manifest, Utterance, read_manifest, write_manifest
from asr.outputs import atomic_write

FORMATS = {"flac": "FLAC", "wav": "WAV"}  # shard audio formats: lossless, 16-bit, decoded by soundfile
SHARD_PATTERN = "shard-{:06d}.tar"


class ShardError(ValueError):
    """The shards cannot be written as asked (a bad setting, or an output folder holding another manifest)."""


@dataclass
class ShardResult:
    """What ``write_shards`` wrote and the rows it skipped (each ``where: why``)."""

    manifest: Path
    shards: list[Path] = field(default_factory=list)
    utterances: int = 0
    seconds: float = 0.0
    skipped: list[str] = field(default_factory=list)


def sample_key(position: int, utt: Utterance) -> str:
    """The WebDataset key of a manifest row: its position (so keys sort in tar order) and its id.

    Characters other than letters, digits, ``_`` and ``-`` become ``_``: WebDataset splits
    a member name at its first dot, and a slash would make a folder.
    """
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", utt.id or "")[:64]
    return f"{position:08d}_{safe}" if safe else f"{position:08d}"


def _member(tar: tarfile.TarFile, name: str, data: bytes) -> int:
    """Add ``data`` as member ``name`` with fixed metadata; the byte offset of its data in the tar."""
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o644, 0
    header_at = tar.offset
    tar.addfile(info, io.BytesIO(data))
    return header_at + tarfile.BLOCKSIZE  # a ustar header is one block


def _tar_bytes(size: int) -> int:
    """Bytes a member of ``size`` bytes takes in a tar: its header and its data padded to whole blocks."""
    return tarfile.BLOCKSIZE + -(-size // tarfile.BLOCKSIZE) * tarfile.BLOCKSIZE


def _check_out_dir(out_dir: Path, manifest_out: Path, source: Manifest) -> None:
    """One folder per manifest: refuse a folder holding another manifest's shards, the source manifest,
    or audio the manifest's rows read (rewriting a shard would destroy what later rows read from it)."""
    if manifest_out.resolve() == Path(source.path).resolve():
        raise ShardError(f"{manifest_out} is the manifest being sharded; choose another output folder")
    folder = out_dir.resolve()
    for utt in source.utterances:
        if Path(utt.audio_filepath).resolve().is_relative_to(folder):
            raise ShardError(f"{out_dir} holds audio the manifest reads ({utt.audio_filepath}); choose another folder")
    others = sorted(p.name for p in out_dir.glob("*.jsonl") if p.name != manifest_out.name)
    if others:
        raise ShardError(f"{out_dir} holds the shards of {', '.join(others)}; use one output folder per manifest")


def write_shards(
    manifest: str | os.PathLike, out_dir: str | os.PathLike, shard_size_mb: float = 256.0, audio_format: str = "flac"
) -> ShardResult:
    """Pack ``manifest``'s audio into ``out_dir/shard-NNNNNN.tar`` and write ``out_dir/<manifest name>.jsonl``
    pointing into them. Malformed rows and rows whose audio cannot be read are skipped and listed in the result.

    Raises ``ManifestError`` for an unreadable manifest and ``ShardError`` for bad settings.
    """
    if audio_format not in FORMATS:
        raise ShardError(f"unknown audio format {audio_format!r}; choose one of {', '.join(FORMATS)}")
    if not shard_size_mb > 0:
        raise ShardError(f"shard size must be positive, not {shard_size_mb} MB")
    source = read_manifest(manifest)
    out_dir = Path(out_dir)
    result = ShardResult(out_dir / f"{Path(source.path).stem}.jsonl")
    result.skipped = [f"{source.path}:{line}: {why}" for line, why in source.skipped]
    out_dir.mkdir(parents=True, exist_ok=True)
    _check_out_dir(out_dir, result.manifest, source)
    result.manifest.unlink(missing_ok=True)  # never left pointing into shards rewritten below
    limit = shard_size_mb * 1e6
    rows: list[dict[str, Any]] = []
    tar: tarfile.TarFile | None = None
    shard = ExitStack()  # the shard being written: it replaces an earlier run's file only once complete
    try:
        for position, utt in enumerate(tqdm(source.utterances, desc="sharding", unit="utt", disable=None)):
            try:
                samples, rate = utt.audio.read()
            except AudioError as e:
                result.skipped.append(str(e))
                continue
            buffer = io.BytesIO()
            sf.write(buffer, to_pcm16(samples), rate, format=FORMATS[audio_format], subtype="PCM_16")
            audio = buffer.getvalue()
            meta = {"text": utt.text, "duration": round(len(samples) / rate, 6), "speaker": utt.speaker, "id": utt.id}
            if utt.words is not None:
                meta["words"] = list(utt.words)
            meta = {k: v for k, v in meta.items() if v is not None}
            encoded = json.dumps(meta, ensure_ascii=False, sort_keys=True).encode()
            if tar is None or tar.offset + _tar_bytes(len(audio)) + _tar_bytes(len(encoded)) > limit:
                if tar is not None:
                    tar.close()
                    shard.close()
                result.shards.append(out_dir / SHARD_PATTERN.format(len(result.shards)))
                f = shard.enter_context(atomic_write(result.shards[-1], "wb"))
                tar = tarfile.open(fileobj=f, mode="w", format=tarfile.USTAR_FORMAT)
            key = sample_key(position, utt)
            offset = _member(tar, f"{key}.{audio_format}", audio)
            _member(tar, f"{key}.json", encoded)
            rows.append(
                {
                    "audio_filepath": str(result.shards[-1].resolve()),
                    "archive_offset": offset,
                    "archive_size": len(audio),
                    **meta,
                }
            )
            result.utterances += 1
            result.seconds += meta["duration"]
    except BaseException:
        shard.__exit__(*sys.exc_info())  # the partial shard is removed, the earlier file kept
        raise
    if tar is not None:
        tar.close()
        shard.close()
    for stale in set(out_dir.glob("shard-*.tar")) - set(result.shards):  # left by an earlier, larger run
        stale.unlink()
    write_manifest(result.manifest, rows)
    return result
