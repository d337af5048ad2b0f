import json

import pytest

from asr.audio import AudioSource
from asr.data.manifest import ManifestError, read_manifest, read_manifests, write_manifest


def test_bad_rows_are_skipped_and_counted(tmp_path):
    lines = [
        json.dumps({"audio_filepath": "a.wav", "duration": 1.5, "text": "one"}),
        "{not json",
        json.dumps({"audio_filepath": "b.wav", "text": "two"}),
        json.dumps({"audio_filepath": "c.wav", "duration": -1, "text": "three"}),
        json.dumps([1, 2]),
        "",
        json.dumps({"audio_filepath": "/abs/d.wav", "duration": "2", "text": "four", "speaker": 7}),
    ]
    path = tmp_path / "m.jsonl"
    path.write_text("\n".join(lines))
    manifest = read_manifest(path)
    assert [u.text for u in manifest.utterances] == ["one", "four"]
    assert [n for n, _ in manifest.skipped] == [2, 3, 4, 5]
    assert "duration" in manifest.skipped[1][1]
    assert manifest.utterances[0].audio_filepath == str(tmp_path / "a.wav")
    assert manifest.utterances[1].audio_filepath == "/abs/d.wav" and manifest.utterances[1].speaker == "7"


def test_write_makes_paths_relative_to_the_manifest(tmp_path):
    audio = tmp_path / "audio" / "x.wav"
    path = tmp_path / "m.jsonl"
    write_manifest(path, [{"audio_filepath": str(audio), "duration": 1.0, "text": "hi"}])
    assert json.loads(path.read_text())["audio_filepath"] == "audio/x.wav"
    assert read_manifest(path).utterances[0].audio_filepath == str(audio)


def test_several_manifests_read_as_one(tmp_path):
    (tmp_path / "a").mkdir()
    write_manifest(tmp_path / "a" / "m.jsonl", [{"audio_filepath": "x.wav", "duration": 1.0, "text": "one"}])
    (tmp_path / "b.jsonl").write_text(json.dumps({"audio_filepath": "y.wav", "duration": 2.0, "text": "two"}) + "\n{")
    both = read_manifests([tmp_path / "a" / "m.jsonl", str(tmp_path / "b.jsonl")])
    assert [u.text for u in both.utterances] == ["one", "two"]
    assert [u.audio_filepath for u in both.utterances] == [str(tmp_path / "a" / "x.wav"), str(tmp_path / "y.wav")]
    assert len(both.skipped) == 1 and both.skipped[0][1].startswith(str(tmp_path / "b.jsonl"))
    assert read_manifests(str(tmp_path / "b.jsonl")).path == str(tmp_path / "b.jsonl")
    with pytest.raises(ManifestError):
        read_manifests([])


@pytest.mark.parametrize(
    "row",
    [
        '{"audio_filepath": "a.wav", "duration": 1.0, "offset": NaN, "text": "x"}',
        '{"audio_filepath": "a.wav", "duration": Infinity, "text": "x"}',
        '{"audio_filepath": "a.wav", "duration": "nan", "text": "x"}',
        '{"audio_filepath": "a.wav", "duration": 1.0, "offset": "-inf", "text": "x"}',
        '{"audio_filepath": "a.wav", "duration": true, "text": "x"}',
        '{"audio_filepath": "a.wav", "duration": 1.0, "text": "x", "words": [{"word": "x", "start": NaN, "end": 1}]}',
        '{"audio_filepath": "a.wav", "duration": 1.0, "text": "x", "words": [{"word": "x", "start": 0.5, "end": 0.1}]}',
        '{"audio_filepath": "a.wav", "duration": 1.0, "text": "x", "words": "x"}',
    ],
)
def test_non_finite_or_out_of_range_numbers_skip_the_row(tmp_path, row):
    path = tmp_path / "m.jsonl"
    words = [{"word": "y", "start": 0.1, "end": 0.4}]
    good = json.dumps({"audio_filepath": "b.wav", "duration": 1.0, "text": "y", "words": words})
    path.write_text(f"{row}\n{good}\n")
    manifest = read_manifest(path)
    assert [u.text for u in manifest.utterances] == ["y"] and [n for n, _ in manifest.skipped] == [1]


def test_a_line_that_is_not_utf8_skips_that_line_only(tmp_path):
    path = tmp_path / "m.jsonl"
    rows = [json.dumps({"audio_filepath": f"{n}.wav", "duration": 1.0, "text": t}) for n, t in enumerate("abc")]
    path.write_bytes("\n".join(rows).replace('"b"', '"b\udcff"', 1).encode("utf-8", "surrogateescape") + b"\n")
    manifest = read_manifest(path)
    assert [u.text for u in manifest.utterances] == ["a", "c"]
    assert manifest.skipped[0][0] == 2 and "utf-8" in manifest.skipped[0][1]


def test_a_row_is_an_audio_span_a_segment_read_for_its_duration(tmp_path):
    rows = [
        {"audio_filepath": "a.wav", "duration": 1.5, "text": "one"},
        {"audio_filepath": "a.wav", "duration": 0.5, "offset": 2.0, "text": "two"},
        {"audio_filepath": "a.wav", "duration": 0.5, "offset": 0, "text": "one"},  # a segment at the start
        {"audio_filepath": "s.tar", "duration": 1.0, "text": "three", "archive_offset": 512, "archive_size": 100},
    ]
    write_manifest(tmp_path / "m.jsonl", rows)
    whole, segment, first, member = (u.audio for u in read_manifest(tmp_path / "m.jsonl").utterances)
    audio, tar = str(tmp_path / "a.wav"), str(tmp_path / "s.tar")
    assert whole == AudioSource(audio)  # a whole file is read to its end: its manifest duration may be rounded
    assert segment == AudioSource(audio, offset=2.0, duration=0.5)
    assert first == AudioSource(audio, offset=0.0, duration=0.5)  # not read to the end of the file
    assert member == AudioSource(tar, byte_range=(512, 100))
