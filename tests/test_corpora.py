"""Corpus importers on tiny corpora built here in each native layout; the download helper against a local server."""

from __future__ import annotations

import hashlib
import http.server
import importlib
import io
import json
import logging
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import soundfile as sf
from audio_utils import tone

from asr.cli.main import main
from asr.corpora.common import ImportResult, LayoutError
from asr.corpora.commonvoice import prepare_commonvoice
from asr.corpora.folder import prepare_folder
from asr.corpora.kaldi import prepare_kaldi
from asr.corpora.librispeech import prepare_librispeech
from asr.data.manifest import read_manifest

TOOLS = Path(__file__).resolve().parents[1] / "tools"
needs_mp3 = pytest.mark.skipif(
    "MP3" not in sf.available_formats(), reason="this libsndfile cannot write mp3 (needs libsndfile >= 1.1)"
)


def _audio(path: Path, seconds: float, rate: int = 16000, channels: int = 1) -> Path:
    """Write a short tone in the format the suffix names."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, tone(seconds, rate, channels=channels), rate)
    return path


def _text(path: Path, *lines: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def _rows(result: ImportResult, name: str) -> dict[str, dict]:
    """The rows of one written manifest by id, audio paths resolved as readers see them."""
    manifest = read_manifest(result.manifests[name].path)
    assert manifest.skipped == []
    return {u.id: vars(u) | {"audio_filepath": u.audio.path, "offset": u.audio.offset} for u in manifest.utterances}


def _skipped(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "skipped:" in r.getMessage()]


# LibriSpeech


def _librispeech(root: Path) -> Path:
    """``root/LibriSpeech`` with dev-clean (two chapters, four bad rows) and test-clean; returns it."""
    corpus = root / "LibriSpeech"
    chapter = corpus / "dev-clean" / "84" / "121123"
    _text(
        chapter / "84-121123.trans.txt",
        "84-121123-0000 GO, DO YOU HEAR?",
        "84-121123-0001 BUT IN LESS THAN FIVE MINUTES",
        "84-121123-0002 THIS ONE HAS NO AUDIO",
        "84-121123-0003 ... !!",
        "99-1-0000 NOT THIS CHAPTER",
        "84-121123-0005 CORRUPT AUDIO",
    )
    _audio(chapter / "84-121123-0000.flac", 1.0)
    _audio(chapter / "84-121123-0001.flac", 1.5)
    _audio(chapter / "84-121123-0003.flac", 0.5)
    (chapter / "84-121123-0005.flac").write_bytes(b"fLaC but not really")
    other = corpus / "dev-clean" / "174" / "50561"
    _text(other / "174-50561.trans.txt", "174-50561-0000 FORGOTTEN TOO")
    _audio(other / "174-50561-0000.flac", 0.8, rate=22050, channels=2)
    test = corpus / "test-clean" / "1089" / "134686"
    _text(test / "1089-134686.trans.txt", "1089-134686-0000 HE HOPED THERE WOULD BE STEW")
    _audio(test / "1089-134686-0000.flac", 2.0)
    return corpus


@pytest.mark.filterwarnings("ignore:PySoundFile failed", "ignore::FutureWarning")  # librosa on the corrupt file
def test_librispeech_rows_speakers_and_skipped_rows(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    corpus = _librispeech(tmp_path / "corpus")
    with caplog.at_level(logging.WARNING):
        result = prepare_librispeech(tmp_path / "corpus", tmp_path / "out")  # the folder holding LibriSpeech/ works
    assert list(result.manifests) == ["dev-clean", "test-clean"] and result.skipped == 4
    assert result.manifests["dev-clean"].path == tmp_path / "out" / "dev-clean.jsonl"
    dev = _rows(result, "dev-clean")
    assert {k: (r["text"], r["speaker"]) for k, r in dev.items()} == {
        "84-121123-0000": ("go do you hear", "84"),
        "84-121123-0001": ("but in less than five minutes", "84"),
        "174-50561-0000": ("forgotten too", "174"),
    }
    for utt_id, seconds in [("84-121123-0000", 1.0), ("84-121123-0001", 1.5), ("174-50561-0000", 0.8)]:
        assert abs(dev[utt_id]["duration"] - seconds) <= 0.01
    path = corpus / "dev-clean" / "84" / "121123" / "84-121123-0000.flac"
    assert dev["84-121123-0000"]["audio_filepath"] == str(path)  # audio outside the output folder: absolute
    assert result.manifests["test-clean"].utterances == 1
    assert abs(result.manifests["test-clean"].hours * 3600 - 2.0) <= 0.01
    trans = corpus / "dev-clean" / "84" / "121123" / "84-121123.trans.txt"
    skipped = _skipped(caplog)
    for line, why in [(3, "no such audio file"), (4, "empty transcript"), (5, "not of speaker 84"), (6, "cannot")]:
        assert any(m.startswith(f"{trans}:{line}: skipped") and why in m for m in skipped), (line, skipped)


def test_librispeech_chosen_subsets_and_relative_paths(tmp_path: Path) -> None:
    corpus = _librispeech(tmp_path)
    result = prepare_librispeech(corpus, corpus, subsets=["test-clean"])
    assert list(result.manifests) == ["test-clean"] and result.skipped == 0
    row = json.loads((corpus / "test-clean.jsonl").read_text())
    assert row == {
        "audio_filepath": "test-clean/1089/134686/1089-134686-0000.flac",
        "duration": 2.0,
        "text": "he hoped there would be stew",
        "speaker": "1089",
        "id": "1089-134686-0000",
    }


def test_librispeech_wrong_layout(tmp_path: Path) -> None:
    (tmp_path / "wav").mkdir()
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(LayoutError, match=r"no subset folder \(train-clean-100, .*expected the LibriSpeech layout"):
        prepare_librispeech(tmp_path, tmp_path / "out")
    with pytest.raises(LayoutError, match=r"found notes.txt, wav/$"):
        prepare_librispeech(tmp_path, tmp_path / "out")
    (tmp_path / "dev-clean" / "84").mkdir(parents=True)
    with pytest.raises(LayoutError, match=r"no dev-clean/<speaker>/<chapter>/\*\.trans\.txt under"):
        prepare_librispeech(tmp_path, tmp_path / "out")
    with pytest.raises(LayoutError, match="no test-other/"):
        prepare_librispeech(tmp_path, tmp_path / "out", subsets=["test-other"])


# Common Voice

_CV_HEADER = "client_id\tpath\tsentence\tup_votes\tdown_votes\tage\tgender\taccents\tlocale\tsegment"


def _commonvoice(root: Path) -> Path:
    """train.tsv (two good rows, three bad), dev.tsv (one row), test.tsv (header only), clips/*.mp3."""
    for number, seconds, rate in [(1, 1.2, 48000), (2, 0.7, 16000), (3, 1.0, 16000), (4, 1.0, 16000)]:
        _audio(root / "clips" / f"common_voice_en_{number}.mp3", seconds, rate)
    _text(
        root / "train.tsv",
        _CV_HEADER,
        'aaa\tcommon_voice_en_1.mp3\tHe said "Hello" to me.\t2\t0\t\t\t\ten\t',
        'bbb\tcommon_voice_en_2.mp3\t"Don\'t" stop\t2\t0\tteens\t\t\ten\t',
        "aaa\tcommon_voice_en_9.mp3\tThis clip is missing\t2\t0\t\t\t\ten\t",
        "aaa\tcommon_voice_en_4.mp3\tToo few fields",
        "ccc\tcommon_voice_en_4.mp3\t\u201c\u201d\t2\t0\t\t\t\ten\t",
    )
    _text(root / "dev.tsv", _CV_HEADER, "ddd\tcommon_voice_en_3.mp3\tA third one\t2\t0\t\t\t\ten\t")
    _text(root / "test.tsv", _CV_HEADER)
    return root


@needs_mp3
def test_commonvoice_rows_quotes_and_skipped_rows(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    root = _commonvoice(tmp_path / "cv")
    with caplog.at_level(logging.WARNING):
        result = prepare_commonvoice(root, tmp_path / "out")
    assert list(result.manifests) == ["train", "dev", "test"] and result.skipped == 3
    train = _rows(result, "train")
    assert {k: (r["text"], r["speaker"]) for k, r in train.items()} == {
        "common_voice_en_1": ("he said hello to me", "aaa"),
        "common_voice_en_2": ("don't stop", "bbb"),
    }
    assert abs(train["common_voice_en_1"]["duration"] - 1.2) <= 0.01
    assert abs(train["common_voice_en_2"]["duration"] - 0.7) <= 0.01
    assert _rows(result, "dev")["common_voice_en_3"]["text"] == "a third one"
    assert result.manifests["test"].utterances == 0
    skipped = _skipped(caplog)
    for line, why in [(4, "no such audio file"), (5, "3 tab-separated fields, the header has 10"), (6, "empty")]:
        assert any(m.startswith(f"{root / 'train.tsv'}:{line}: skipped") and why in m for m in skipped), line


@needs_mp3
def test_commonvoice_spells_numbers_in_each_rows_locale(tmp_path: Path) -> None:
    root = tmp_path / "cv"
    for number in (1, 2, 3):
        _audio(root / "clips" / f"c{number}.mp3", 0.5, 16000)
    _text(
        root / "dev.tsv",
        _CV_HEADER,
        "aaa\tc1.mp3\tIch bin 20\t2\t0\t\t\t\tde\t",
        "bbb\tc2.mp3\tI am 20\t2\t0\t\t\t\ten\t",
        "ccc\tc3.mp3\tJe suis 20\t2\t0\t\t\t\t\t",  # no locale: --language
    )
    result = prepare_commonvoice(root, tmp_path / "out", splits=["dev"], language="fr")
    texts = {k: r["text"] for k, r in _rows(result, "dev").items()}
    assert texts == {"c1": "ich bin zwanzig", "c2": "i am twenty", "c3": "je suis vingt"}


@needs_mp3
def test_commonvoice_chosen_splits_and_wrong_layout(tmp_path: Path) -> None:
    root = _commonvoice(tmp_path / "cv")
    assert list(prepare_commonvoice(root, tmp_path / "out", splits=["dev"]).manifests) == ["dev"]
    with pytest.raises(LayoutError, match=r"no validated.tsv under .*expected the Common Voice layout"):
        prepare_commonvoice(root, tmp_path / "out", splits=["train", "validated"])
    _text(root / "dev.tsv", "client_id\tpath\ttext", "ddd\tcommon_voice_en_3.mp3\tA third one")
    with pytest.raises(LayoutError, match=r"dev.tsv: header lacks column\(s\) sentence; .*found columns: client_id"):
        prepare_commonvoice(root, tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(LayoutError, match=r"no train.tsv, dev.tsv, test.tsv, clips/ under .*found an empty folder"):
        prepare_commonvoice(tmp_path / "empty", tmp_path / "out")


# Kaldi


def _kaldi(root: Path) -> Path:
    """``root/data/train`` with segments into two WAVs (one listed by a relative path), a pipe and bad lines."""
    rec1 = _audio(root / "audio" / "rec1.wav", 3.0)
    _audio(root / "audio" / "rec2.wav", 2.0, rate=8000)
    data = root / "data" / "train"
    _text(
        data / "wav.scp",
        f"rec1 {rec1}",
        "rec2 audio/rec2.wav",
        "rec3 sox in.wav -t wav - |",
        "rec4",
        "rec1 /elsewhere/repeated.wav",
    )
    _text(
        data / "segments",
        "utt1 rec1 0.0 1.2",
        "utt2 rec1 1.2 2.9",
        "utt3 rec2 0.5 -1",
        "utt4 rec3 0 1",
        "utt5 rec1 2.0 1.0",
        "utt6 rec1 2.8 3.3",
        "utt7 rec1 5.0 6.0",
        "utt8 rec4 0 1",
        "utt10 recX 0 1",
        "utt11 rec1 0 1",
    )
    _text(data / "utt2spk", "utt1 spkA", "utt2 spkA", "utt3 spkB", "utt4 spkB")
    _text(
        data / "text",
        "utt1 HELLO WORLD",
        "utt2 Foo-bar baz",
        "utt3 third one",
        "utt4 piped",
        "utt5 bad segment",
        "utt6 runs a little past the end",
        "utt7 outside",
        "utt8 malformed recording",
        "utt9 no segment line",
        "utt10 unknown recording",
        "utt11",
    )
    return data


def test_kaldi_segments_speakers_and_skipped_rows(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    data = _kaldi(tmp_path)
    with caplog.at_level(logging.WARNING):
        result = prepare_kaldi(data, tmp_path / "out", audio_root=tmp_path)
    assert list(result.manifests) == ["train"] and result.skipped == 7
    rows = _rows(result, "train")
    expected = {  # id: (offset, duration, speaker, text)
        "utt1": (0.0, 1.2, "spkA", "hello world"),
        "utt2": (1.2, 1.7, "spkA", "foo bar baz"),
        "utt3": (0.5, 1.5, "spkB", "third one"),
        "utt6": (2.8, 0.2, None, "runs a little past the end"),
    }
    assert set(rows) == set(expected)
    for utt_id, (offset, duration, speaker, text) in expected.items():
        row = rows[utt_id]
        assert (row["speaker"], row["text"]) == (speaker, text)
        assert abs(row["offset"] - offset) <= 0.01 and abs(row["duration"] - duration) <= 0.01
    assert rows["utt3"]["audio_filepath"] == str(tmp_path / "audio" / "rec2.wav")
    skipped = _skipped(caplog)
    text = data / "text"
    for line, why in [
        (4, f"{data / 'wav.scp'}:3: command pipe 'sox in.wav -t wav - |' is not run"),
        (5, f"{data / 'segments'}:5: need 0 <= start < end"),
        (7, "segment 5.0-6.0 s lies outside"),
        (8, f"{data / 'wav.scp'}:4: expected '<recording-id> <audio path>'"),
        (9, "'utt9' has no line in segments"),
        (10, "'recX' has no line in wav.scp"),
        (11, "empty transcript"),
    ]:
        assert any(m.startswith(f"{text}:{line}: skipped") and why in m for m in skipped), (line, skipped)
    assert any(f"{data / 'wav.scp'}:5: 'rec1' appears again" in r.getMessage() for r in caplog.records)


def test_kaldi_without_segments_and_wrong_layout(tmp_path: Path) -> None:
    wav = _audio(tmp_path / "a.flac", 1.25)
    data = tmp_path / "dev"
    _text(data / "wav.scp", f"a {wav}")
    _text(data / "text", "a Just one")
    result = prepare_kaldi(data, tmp_path / "out", name="kaldi-dev")
    row = json.loads(result.manifests["kaldi-dev"].path.read_text())
    assert row == {"audio_filepath": str(wav), "duration": 1.25, "text": "just one", "id": "a"}
    (data / "wav.scp").unlink()
    with pytest.raises(LayoutError, match=r"no wav.scp under .*; expected a Kaldi data directory.*; found text$"):
        prepare_kaldi(data, tmp_path / "out")


# Folder


def test_folder_mixed_formats_and_skipped_rows(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    root = tmp_path / "recordings"
    files = {"a.wav": 1.0, "sub/b.flac": 0.6, "sub/deeper/c.ogg": 1.3, "d.WAV": 0.4}
    if "MP3" in sf.available_formats():
        files["sub/e.mp3"] = 0.9
    for name, seconds in files.items():
        _text((root / name).with_suffix(".txt"), f"Text of {name.split('/')[-1][0]}!")
        _audio(root / name, seconds, rate=22050 if name.endswith("flac") else 16000)
    _audio(root / "untranscribed.wav", 0.5)
    _audio(root / "sub" / "silent.flac", 0.5)
    _text(root / "sub" / "silent.txt", "   ")
    _text(root / "notes.txt", "not a transcript")
    with caplog.at_level(logging.WARNING):
        result = prepare_folder(root, tmp_path / "out")
    assert list(result.manifests) == ["recordings"] and result.skipped == 2
    rows = _rows(result, "recordings")
    assert set(rows) == {name.rsplit(".", 1)[0] for name in files}
    for name, seconds in files.items():
        row = rows[name.rsplit(".", 1)[0]]
        assert row["text"] == f"text of {name.split('/')[-1][0].lower()}"
        assert abs(row["duration"] - seconds) <= 0.01 and row["audio_filepath"] == str(root / name)
    skipped = _skipped(caplog)
    assert any(m.startswith(f"{root / 'untranscribed.wav'}: skipped: no transcript untranscribed.txt") for m in skipped)
    assert any(m.startswith(f"{root / 'sub' / 'silent.txt'}: skipped: empty transcript") for m in skipped)


def test_folder_keeps_numbers_as_words_and_reports_unclear_ones(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = tmp_path / "recordings"
    for name, text in {"paid": "I paid $20 on the 1st.", "half": "Add 1/2 a cup."}.items():
        _text(root / f"{name}.txt", text)
        _audio(root / f"{name}.wav", 0.5)
    with caplog.at_level(logging.WARNING):
        result = prepare_folder(root, tmp_path / "out")
    assert result.skipped == 1
    assert _rows(result, "recordings")["paid"]["text"] == "i paid twenty dollars on the first"
    assert any(
        m.startswith(f"{root / 'half.txt'}: skipped: transcript: '1/2': ambiguous number") for m in _skipped(caplog)
    ), _skipped(caplog)


def test_folder_wrong_layout(tmp_path: Path) -> None:
    _text(tmp_path / "a.txt", "hello")
    with pytest.raises(LayoutError, match=r"no audio file under .*; expected a folder of audio files .*; found a.txt"):
        prepare_folder(tmp_path, tmp_path / "out")
    _audio(tmp_path / "b.wav", 0.5)
    with pytest.raises(LayoutError, match=r"no .txt transcript beside any of 1 audio file\(s\) under"):
        prepare_folder(tmp_path, tmp_path / "out")


# CLI


def test_cli_prepare_kaldi(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _kaldi(tmp_path)
    out = tmp_path / "out"
    args = ["prepare", "kaldi", "--data-dir", str(data), "--out-dir", str(out), "--audio-root", str(tmp_path)]
    assert main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"train: {out / 'train.jsonl'} (4 utterances, 0.00 h)",
        "skipped 7 bad row(s), each named in a warning above",
    ]
    assert main(["prepare", "kaldi", "--data-dir", str(tmp_path), "--out-dir", str(out)]) == 2
    assert capsys.readouterr().err.startswith(f"error: no wav.scp and no text under {tmp_path}; expected a Kaldi")
    _text(data / "text", "utt1")
    assert main(args + ["--name", "empty"]) == 1
    captured = capsys.readouterr()
    assert "empty: " in captured.out and "error: nothing could be imported" in captured.err


# Downloads


class _RangeServer(http.server.ThreadingHTTPServer):
    """Serves ``payload`` at any path, honouring ``Range: bytes=N-`` unless told not to; records the Range headers."""

    payload = b""
    honour_range = True
    ranges: list[str | None]


class _RangeHandler(http.server.BaseHTTPRequestHandler):
    server: _RangeServer

    def do_GET(self) -> None:
        requested = self.headers.get("Range")
        self.server.ranges.append(requested)
        start = int(requested.removeprefix("bytes=").rstrip("-")) if requested and self.server.honour_range else 0
        if start >= len(self.server.payload) > 0:
            self.send_response(416)
            self.end_headers()
            return
        body = self.server.payload[start:]
        self.send_response(206 if start else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[_RangeServer]:
    with _RangeServer(("127.0.0.1", 0), _RangeHandler) as httpd:
        httpd.ranges = []
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        yield httpd
        httpd.shutdown()


def _url(server: _RangeServer, name: str = "") -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{name}"


@pytest.fixture
def tools(monkeypatch: pytest.MonkeyPatch) -> dict[str, ModuleType]:
    """The tools/ scripts, imported as they import each other."""
    monkeypatch.syspath_prepend(str(TOOLS))
    return {name: importlib.import_module(name) for name in ("_download", "download_librispeech", "download_fsdd")}


@pytest.mark.parametrize(("honour_range", "prefix"), [(True, b""), (False, b"junk")])
def test_download_resumes_a_part_file_and_checks_md5(
    server: _RangeServer, tools: dict[str, ModuleType], tmp_path: Path, honour_range: bool, prefix: bytes
) -> None:
    server.payload, server.honour_range = bytes(range(256)) * 1000, honour_range
    target = tmp_path / "file.bin"
    part = tmp_path / "file.bin.part"
    part.write_bytes(prefix or server.payload[:100_000])
    requested = f"bytes={part.stat().st_size}-"
    tools["_download"].download(_url(server, "/file.bin"), target, hashlib.md5(server.payload).hexdigest())
    assert target.read_bytes() == server.payload and not part.exists()
    assert server.ranges == [requested]


def test_download_of_a_complete_part_file_and_a_bad_checksum(
    server: _RangeServer, tools: dict[str, ModuleType], tmp_path: Path
) -> None:
    download = tools["_download"]
    server.payload = b"x" * 5000
    target = tmp_path / "file.bin"
    (tmp_path / "file.bin.part").write_bytes(server.payload)
    download.download(_url(server, "/file.bin"), target)  # 416: nothing left to fetch
    assert target.read_bytes() == server.payload and server.ranges == ["bytes=5000-"]
    with pytest.raises(download.ChecksumError, match=rf"{tmp_path / 'other.bin'}.part: MD5 is [0-9a-f]+, expected 0+$"):
        download.download(_url(server, "/other.bin"), tmp_path / "other.bin", "0" * 32)
    assert list(tmp_path.iterdir()) == [target]


def _librispeech_archive(folder: Path, subset: str) -> bytes:
    """A ``<subset>.tar.gz`` laid out like openslr's: LibriSpeech/<subset>/<speaker>/<chapter>/..."""
    flac = io.BytesIO()
    sf.write(flac, tone(0.5), 16000, format="FLAC")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in [
            (f"LibriSpeech/{subset}/7/8/7-8.trans.txt", b"7-8-0000 A TINY ONE\n"),
            (f"LibriSpeech/{subset}/7/8/7-8-0000.flac", flac.getvalue()),
            ("LibriSpeech/README.TXT", b"readme"),
        ]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    (folder / f"{subset}.tar.gz").write_bytes(buffer.getvalue())
    return buffer.getvalue()


def test_download_librispeech_offline_online_and_bad_checksum(
    server: _RangeServer,
    tools: dict[str, ModuleType],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    script = tools["download_librispeech"]
    archives = tmp_path / "archives"
    archives.mkdir()
    dev, test = _librispeech_archive(archives, "dev-clean"), _librispeech_archive(archives, "test-clean")
    monkeypatch.setitem(script.MD5, "dev-clean", hashlib.md5(dev).hexdigest())
    monkeypatch.setitem(script.MD5, "test-clean", hashlib.md5(test).hexdigest())
    out = tmp_path / "out"
    assert script.main(["dev-clean", "--out-dir", str(out), "--archive-dir", str(archives)]) == 0
    assert (archives / "dev-clean.tar.gz").exists() and (out / "LibriSpeech" / "README.TXT").exists()
    assert script.main(["dev-clean", "--out-dir", str(out), "--archive-dir", str(archives)]) == 0
    assert "dev-clean: already extracted" in capsys.readouterr().out
    server.payload = test
    assert script.main(["test-clean", "--out-dir", str(out), "--base-url", _url(server)]) == 0
    assert not (out / "test-clean.tar.gz").exists()  # downloaded archives are deleted once extracted
    result = prepare_librispeech(out, out)
    assert {name: m.utterances for name, m in result.manifests.items()} == {"dev-clean": 1, "test-clean": 1}
    monkeypatch.setitem(script.MD5, "dev-other", "0" * 32)
    (archives / "dev-other.tar.gz").write_bytes(dev)
    assert script.main(["dev-other", "--out-dir", str(out), "--archive-dir", str(archives)]) == 1
    assert "error: dev-other: " in capsys.readouterr().err and not (out / "LibriSpeech" / "dev-other").exists()
    assert tools["download_fsdd"].download is tools["_download"].download
