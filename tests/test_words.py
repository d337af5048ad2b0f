import pytest
import torch

from asr.decoding import GreedyDecoder, words_from_alignment
from asr.decoding.words import snap_to_speech
from asr.model_file import FRAME_OFFSET
from asr.results import Word
from asr.text import CharTokenizer

TOKENIZER = CharTokenizer.build(["ab c"])  # " ", a, b, c
IDS = {"-": 0, " ": 1, "a": 2, "b": 3, "c": 4}
SPF = 0.04


def emissions(*frames: str, sure: float = 0.95, unsure: str = "") -> torch.Tensor:
    """(T, V) log-probs: a frame's symbol holds ``sure`` of the mass (0.5 if in ``unsure``), the rest even."""
    probs = torch.empty((len(frames), len(IDS)))
    for t, symbol in enumerate(frames):
        p = 0.5 if symbol in unsure else sure
        probs[t] = (1 - p) / (len(IDS) - 1)
        probs[t, IDS[symbol]] = p
    return probs.log()


def decoded(log_probs: torch.Tensor) -> list[int]:
    return GreedyDecoder().decode(log_probs[None], torch.tensor([log_probs.shape[0]]))[0].tokens


LOG_PROBS = emissions("-", "a", "a", "-", "b", "-", " ", "-", "c", "c", "-", "-")


def test_words_and_frame_spans():
    words = words_from_alignment(LOG_PROBS, decoded(LOG_PROBS), TOKENIZER, SPF, time_offset=1.0, frame_offset=0.0)
    assert [w.word for w in words] == ["ab", "c"]
    # "ab" ends where the separator after it is aligned (frame 6); the last word at its last letter.
    assert [t for w in words for t in (w.start, w.end)] == pytest.approx([1.04, 1.24, 1.32, 1.4])


def test_times_are_monotonic_and_within_the_audio():
    log_probs = torch.cat([LOG_PROBS, emissions(*"-" * 8)])  # room after the last word for FRAME_OFFSET
    words = words_from_alignment(log_probs, decoded(log_probs), TOKENIZER, SPF, frame_offset=FRAME_OFFSET)
    times = [t for w in words for t in (w.start, w.end)]
    assert times == sorted(times) and all(w.start < w.end for w in words)
    assert times[0] == pytest.approx(SPF + FRAME_OFFSET)
    assert times[-1] <= log_probs.shape[0] * SPF


def test_times_stay_within_the_frames():
    words = words_from_alignment(LOG_PROBS, decoded(LOG_PROBS), TOKENIZER, SPF, time_offset=2.0, frame_offset=10.0)
    assert all(2.0 <= w.start <= w.end <= 2.0 + LOG_PROBS.shape[0] * SPF for w in words)
    words = words_from_alignment(LOG_PROBS, decoded(LOG_PROBS), TOKENIZER, SPF, time_offset=2.0, frame_offset=-10.0)
    assert all(w.start == w.end == 2.0 for w in words)


def test_uncertain_word_gets_lower_confidence():
    log_probs = emissions("-", "a", "a", "-", "b", "-", " ", "-", "c", "c", "-", "-", unsure="c")
    ab, c = words_from_alignment(log_probs, decoded(log_probs), TOKENIZER, SPF, frame_offset=FRAME_OFFSET)
    assert 0 <= c.confidence < ab.confidence <= 1
    assert ab.confidence > 0.9 and c.confidence < 0.6


def test_empty_hypothesis():
    assert words_from_alignment(emissions("-", "-"), [], TOKENIZER, SPF, frame_offset=FRAME_OFFSET) == []


def test_too_few_frames_falls_back_to_decoder_frames():
    tokens = [IDS["a"], IDS["a"], IDS[" "], IDS["c"]]  # "aa c" needs 5 frames to force-align; there are 3
    log_probs = emissions("a", " ", "c")
    words = words_from_alignment(log_probs, tokens, TOKENIZER, SPF, frames=[0, 0, 1, 2], frame_offset=0.0)
    assert [(w.word, w.start, w.end) for w in words] == [("aa", 0.0, pytest.approx(0.04)), ("c", 0.08, 0.12)]
    spread = words_from_alignment(log_probs, tokens, TOKENIZER, SPF, frame_offset=0.0)
    assert [w.word for w in spread] == ["aa", "c"] and all(0 <= w.confidence <= 1 for w in spread)


def test_subword_pieces_group_into_words():
    from asr.text import SentencePieceTokenizer

    sentences = ["the cat sat on the mat", "a cat and a hat"] * 20
    sp = SentencePieceTokenizer.train(sentences, vocab_size=15, model_type="unigram")
    tokens = sp.encode("the cat sat")
    assert any(sp.starts_word(t) for t in tokens)
    # Each piece spikes on its own frame with blanks between, as a CTC model emits them.
    log_probs = torch.full((2 * len(tokens) + 1, sp.vocab_size), -20.0)
    log_probs[:, 0] = 0.0
    for i, token in enumerate(tokens):
        log_probs[2 * i + 1] = -20.0
        log_probs[2 * i + 1, token] = 0.0
    words = words_from_alignment(log_probs, tokens, sp, SPF, frame_offset=0.0)
    assert [w.word for w in words] == ["the", "cat", "sat"]
    times = [t for w in words for t in (w.start, w.end)]
    assert times == sorted(times)


def test_boundaries_move_to_the_sound():
    quiet = torch.tensor([True] * 10 + [False] * 20 + [True] * 10 + [False] * 10 + [True] * 5)  # 10 ms frames
    words = [
        Word("hushed", 0.005, 0.08, 0.7),  # all in the quiet: no sound to move to, left alone
        Word("early", 0.09, 0.35, 0.9),  # starts in the leading quiet, ends in the pause
        Word("late", 0.33, 0.47, 0.8),  # starts in the pause, ends in sound: on to where the sound stops
    ]
    hushed, early, late = snap_to_speech(words, quiet, 0.01)
    assert (early.start, early.end) == pytest.approx((0.10, 0.30))
    assert (late.start, late.end) == pytest.approx((0.40, 0.50))
    assert (early.word, early.confidence) == ("early", 0.9)
    assert hushed == words[0]
    assert snap_to_speech(words, torch.ones(55, dtype=torch.bool), 0.01) == words  # nothing loud: unchanged


def test_end_in_sound_stops_at_the_next_word():
    quiet = torch.tensor([True] * 10 + [False] * 40 + [True] * 10)  # two words with no pause between them
    words = [Word("one", 0.10, 0.22, 0.9), Word("two", 0.31, 0.40, 0.9)]
    one, two = snap_to_speech(words, quiet, 0.01)
    assert one.end == pytest.approx(0.31)  # the sound goes on: up to the next word's start, no further
    assert two.end == pytest.approx(0.50)  # the last word: to where the sound stops


def test_word_labels_are_words_of_their_own():
    from asr.text import WordTokenizer

    words = WordTokenizer.build(["one two three"])  # labels: one 1, three 2, two 3
    log_probs = torch.full((8, words.vocab_size), -20.0)
    log_probs[:, 0] = 0.0
    for frame, label in ((1, 3), (2, 3), (5, 1)):  # "two" on frames 1-2, "one" on frame 5
        log_probs[frame] = -20.0
        log_probs[frame, label] = 0.0
    timed = words_from_alignment(log_probs, decoded(log_probs), words, SPF, frame_offset=0.0)
    assert [w.word for w in timed] == ["two", "one"]
    assert [t for w in timed for t in (w.start, w.end)] == pytest.approx([0.04, 0.12, 0.2, 0.24])
