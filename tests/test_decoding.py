import subprocess
import sys

import pytest
import torch

from asr.decoding import GreedyDecoder, build_decoder


def log_probs_for(paths: list[list[int]], vocab: int = 5) -> torch.Tensor:
    """Log-probs whose best path is ``paths[b]`` (padded with blanks)."""
    T = max(len(p) for p in paths)
    probs = torch.full((len(paths), T, vocab), 0.01)
    for b, path in enumerate(paths):
        for t in range(T):
            probs[b, t, path[t] if t < len(path) else 0] = 1.0
    return probs.log_softmax(-1)


def test_greedy_collapses_repeats_and_drops_blanks():
    paths = [[1, 1, 0, 1, 2, 2, 0, 0, 3], [0, 4, 4, 4]]
    hyps = GreedyDecoder().decode(log_probs_for(paths), torch.tensor([9, 4]))
    assert hyps[0].tokens == [1, 1, 2, 3] and hyps[0].frames == [0, 3, 4, 8]
    assert hyps[1].tokens == [4] and hyps[1].frames == [1]


def test_greedy_ignores_frames_past_length():
    hyps = GreedyDecoder().decode(log_probs_for([[1, 2, 3, 4]]), torch.tensor([2]))
    assert hyps[0].tokens == [1, 2]


def test_unknown_decoder_type():
    with pytest.raises(ValueError, match="decoder=psychic: no such decoder"):
        build_decoder({"type": "psychic"})


def test_without_flashlight_only_beam_search_fails_and_says_why() -> None:
    """Where flashlight-text cannot be installed (Python 3.13), greedy decoding works and decoder=beam names the gap."""
    probe = """
import sys
sys.modules["flashlight"] = None  # as if flashlight-text were not installed
import torch
from asr.decoding import BeamSearchDecoder, GreedyDecoder
from asr.decoding.beam import DecoderUnavailableError
from asr.text import CharTokenizer
tokenizer = CharTokenizer.build(["ab"])
print(GreedyDecoder().decode(torch.zeros(1, 3, tokenizer.vocab_size), torch.tensor([3]))[0].tokens)
try:
    BeamSearchDecoder(tokenizer)
except DecoderUnavailableError as e:
    print(e)
"""
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[0] == "[]" and out[1].startswith("decoder=beam needs the flashlight-text package"), out
