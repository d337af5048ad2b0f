import io

from asr.audio import AudioSource
from asr.results import Transcript, Word
from asr.writers import MAX_CUE_CHARS, cues, jsonl_row, write_srt, write_vtt

WORDS = [
    Word("one", 0.5, 0.9, 0.9),
    Word("two", 1.0, 1.4, 0.8),
    Word("three", 3.0, 3.5, 0.7),
    Word("four", 3661.2, 3661.7, 0.6),
]


def result() -> Transcript:
    return Transcript(AudioSource("a.wav"), text="one two three four", words=WORDS, duration=3662.0)


def test_cues_split_at_pauses_and_length():
    assert [[w.word for w in c] for c in cues(WORDS)] == [["one", "two"], ["three"], ["four"]]
    many = [Word("abcdefghij", i * 0.5, i * 0.5 + 0.4, 1.0) for i in range(10)]
    assert all(len(" ".join(w.word for w in c)) <= MAX_CUE_CHARS for c in cues(many))


def test_srt():
    out = io.StringIO()
    write_srt(result(), out)
    assert out.getvalue().startswith(
        "1\n00:00:00,500 --> 00:00:01,400\none two\n\n2\n00:00:03,000 --> 00:00:03,500\nthree\n\n"
    )
    assert "3\n01:01:01,200 --> 01:01:01,700\nfour\n" in out.getvalue()


def test_vtt():
    out = io.StringIO()
    write_vtt(result(), out)
    assert out.getvalue().startswith("WEBVTT\n\n00:00:00.500 --> 00:00:01.400\none two\n\n")


def test_jsonl_row_has_words_times_and_confidence():
    row = jsonl_row(result())
    assert row["text"] == "one two three four" and row["words"][2] == {
        "word": "three",
        "start": 3.0,
        "end": 3.5,
        "confidence": 0.7,
    }
