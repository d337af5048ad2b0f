"""Word start/end times and confidences, from a forced alignment of the decoded tokens to the log-probabilities.

The decoder only says on which frame each token spiked; forcing the decoded
tokens through ``torchaudio.functional.forced_align`` gives the span of frames
each token holds, which is what word boundaries are made of.
"""

from __future__ import annotations

import math

import torch
import torchaudio.functional as AF
from torchaudio.functional import TokenSpan

from asr.results import Word
from asr.text.tokenizer import BLANK_ID, Tokenizer


def words_from_alignment(
    log_probs: torch.Tensor,
    tokens: list[int],
    tokenizer: Tokenizer,
    seconds_per_frame: float,
    time_offset: float = 0.0,
    frames: list[int] | None = None,
    *,
    frame_offset: float,
) -> list[Word]:
    """Timed words of one utterance's decoded ``tokens`` (no blanks): characters or subword pieces.

    ``log_probs`` (T, V) are the utterance's valid frames; ``time_offset`` is
    where they start in the audio (a chunk's offset), ``frame_offset`` where a
    frame starts relative to its nominal time (the model's, ``LoadedModel.frame_offset``); times are
    kept within the T frames. When the tokens cannot be forced through T frames,
    each token holds the one frame the decoder emitted it on (``frames``), or
    tokens are spread evenly. A word's confidence is that of its least certain
    token, each token taken at its most probable aligned frame: on digits dev
    this separates right from wrong words better than mean log-probabilities.
    """
    if not tokens:
        return []
    log_probs = log_probs.detach().float().cpu()
    last = log_probs.shape[0] * seconds_per_frame

    def seconds(frame: int) -> float:
        return time_offset + min(max(frame * seconds_per_frame + frame_offset, 0.0), last)

    words = []
    for group, stop in _split_words(_token_spans(log_probs, tokens, frames), tokenizer):
        text = tokenizer.decode(span.token for span in group)
        words.append(Word(text, seconds(group[0].start), seconds(stop), _confidence(group, log_probs)))
    return words


def _token_spans(log_probs: torch.Tensor, tokens: list[int], frames: list[int] | None) -> list[TokenSpan]:
    """One span of frames per token."""
    repeats = sum(a == b for a, b in zip(tokens, tokens[1:]))
    if len(tokens) + repeats <= log_probs.shape[0]:
        targets = torch.tensor([tokens], dtype=torch.int32)
        labels, scores = AF.forced_align(log_probs[None], targets, blank=BLANK_ID)
        return AF.merge_tokens(labels[0], scores[0], blank=BLANK_ID)
    if frames is None:
        frames = [i * log_probs.shape[0] // len(tokens) for i in range(len(tokens))]
    return [TokenSpan(t, f, f + 1, log_probs[f, t].item()) for t, f in zip(tokens, frames)]


def _split_words(spans: list[TokenSpan], tokenizer: Tokenizer) -> list[tuple[list[TokenSpan], int]]:
    """Runs of spans that make up words, each with the frame where the word ends.

    Words are split at separators (the character space, SentencePiece's bare
    ``▁``) and before pieces that open a word (``▁the``). A CTC model emits a
    word's tokens as early spikes and then blanks while the word still sounds;
    a separator after it falls in the pause, so a word followed by a separator
    ends where the separator is aligned, any other word after its last token.
    """
    separator = tokenizer.separator_id
    words, current = [], []
    for span in spans:
        if span.token == separator:
            if current:
                words.append((current, span.start))
            current = []
        elif tokenizer.starts_word(span.token) and current:
            words.append((current, current[-1].end))
            current = [span]
        else:
            current.append(span)
    return words + [(current, current[-1].end)] if current else words


def _confidence(spans: list[TokenSpan], log_probs: torch.Tensor) -> float:
    """The lowest, over the word's tokens, of a token's highest probability on its aligned frames."""
    return min(log_probs[s.start : s.end, s.token].max().exp().item() for s in spans)


def snap_to_speech(words: list[Word], quiet: torch.Tensor, seconds_per_frame: float) -> list[Word]:
    """Words (in time order) with their boundaries moved to where the sound is.

    CTC times a word by its spikes, which come early and fall anywhere in the pause
    around it; the audio's energy (``quiet``: one flag per frame of ``seconds_per_frame``)
    shows where the sound is. A start inside a pause moves on to where the sound
    resumes; an end inside a pause moves back to where the sound stopped, as long as
    the word keeps some sound. An end inside sound moves on to where that sound
    stops, but never past the next word's start: the model emits the space after a
    word while the word still sounds, so its ends come early.
    """
    loud = torch.nonzero(~quiet).flatten()
    if loud.numel() == 0:
        return words
    silent = torch.nonzero(quiet).flatten()
    starts = [_snap_start(w, quiet, loud, seconds_per_frame) for w in words]
    snapped = []
    for k, (word, start) in enumerate(zip(words, starts)):
        end = word.end
        last = math.ceil(end / seconds_per_frame) - 1
        if 0 <= last < quiet.numel() and quiet[last]:
            stop = loud[(torch.searchsorted(loud, last, right=True) - 1).clamp(min=0)].item()
            if stop < last and (stop + 1) * seconds_per_frame > start:
                end = (stop + 1) * seconds_per_frame
        elif 0 <= last < quiet.numel():
            after = silent[torch.searchsorted(silent, last)].item() if silent.numel() and silent[-1] > last else None
            stop = quiet.numel() if after is None else after
            limit = starts[k + 1] if k + 1 < len(words) else math.inf
            end = max(end, min(stop * seconds_per_frame, limit))
        snapped.append(Word(word.word, start, end, word.confidence))
    return snapped


def _snap_start(word: Word, quiet: torch.Tensor, loud: torch.Tensor, seconds_per_frame: float) -> float:
    """A word's start, moved on to where the sound resumes when it lies in a pause."""
    first = int(word.start / seconds_per_frame)
    if first < quiet.numel() and quiet[first]:
        resume = loud[torch.searchsorted(loud, first).clamp(max=loud.numel() - 1)].item()
        if first < resume and resume * seconds_per_frame < word.end:
            return resume * seconds_per_frame
    return word.start
