from pathlib import Path

import pytest
import torch

from asr.decoding import BeamSearchDecoder, BeamSearchOptions, DecoderFileError, GreedyDecoder, build_decoder
from asr.decoding.beam import _spelled_path, write_lexicon
from asr.text import CharTokenizer, TokenizerError, WordTokenizer

pytestmark = pytest.mark.usefixtures("flashlight")

TOKENIZER = CharTokenizer.build(["bat cat hat"])  # " ", a, b, c, h, t

# Unigram log10 probabilities; KenLM needs a bigram section, so one bigram is given.
WORD_ARPA = """\\data\\
ngram 1=6
ngram 2=1

\\1-grams:
-1.0\t<unk>\t0
-99\t<s>\t-0.3
-0.7\t</s>\t0
-0.2\tbat\t-0.1
-3.0\tcat\t-0.1
-1.0\that\t-0.1

\\2-grams:
-0.1\t<s> bat

\\end\\
"""


def emissions(*frames: str | dict[str, float]) -> torch.Tensor:
    """(1, T, V) log-probs; a frame is a symbol ('-' blank) holding 0.9 of the mass, or {symbol: prob}."""
    ids = {"-": 0, **{s: i + 1 for i, s in enumerate(TOKENIZER.symbols)}}
    probs = torch.full((len(frames), TOKENIZER.vocab_size), 1e-3)
    for t, frame in enumerate(frames):
        for symbol, p in (frame if isinstance(frame, dict) else {frame: 0.9}).items():
            probs[t, ids[symbol]] = p
    return (probs / probs.sum(-1, keepdim=True)).log()[None]


def beam(**options) -> BeamSearchDecoder:
    return BeamSearchDecoder(TOKENIZER, BeamSearchOptions(beam_size=20, **options))


def text(decoder, log_probs: torch.Tensor) -> str:
    (hyp,) = decoder.decode(log_probs, torch.tensor([log_probs.shape[1]]))
    return TOKENIZER.decode(hyp.tokens)


# "bat" acoustically a bit less likely than "cat" on the first letter
AMBIGUOUS = ("-", {"b": 0.45, "c": 0.55}, "-", "a", "t", "-")


@pytest.fixture
def word_lm(tmp_path: Path) -> Path:
    path = tmp_path / "words.arpa"
    path.write_text(WORD_ARPA)
    return path


@pytest.fixture
def lexicon(tmp_path: Path) -> Path:
    path = tmp_path / "lexicon.txt"
    write_lexicon(["bat", "cat", "hat"], TOKENIZER, path)
    return path


def test_beam_without_lm_matches_greedy_on_clear_input():
    a = emissions("-", "c", "c", "a", "-", "t", " ", " ", "-", "h", "a", "-", "a", "t", "-")
    b = torch.nn.functional.pad(emissions("b", "a", "t"), (0, 0, 0, a.shape[1] - 3), value=-1e4)
    log_probs, lengths = torch.cat([a, b]), torch.tensor([a.shape[1], 3])
    greedy = GreedyDecoder().decode(log_probs, lengths)
    beamed = beam().decode(log_probs, lengths)
    assert [h.tokens for h in beamed] == [h.tokens for h in greedy]
    assert [h.frames for h in beamed] == [h.frames for h in greedy]
    assert TOKENIZER.decode(beamed[0].tokens) == "cat haat"


def test_word_lm_prefers_likely_word(word_lm, lexicon):
    assert text(beam(lexicon=str(lexicon)), emissions(*AMBIGUOUS)) == "cat"
    assert text(beam(lexicon=str(lexicon), lm=str(word_lm), lm_weight=1.0), emissions(*AMBIGUOUS)) == "bat"


def test_token_lm_without_lexicon(tmp_path):
    lm = tmp_path / "chars.arpa"
    lm.write_text(WORD_ARPA.replace("bat", "b").replace("cat", "c").replace("hat", "|"))
    assert text(beam(), emissions(*AMBIGUOUS)) == "cat"
    assert text(beam(lm=str(lm)), emissions(*AMBIGUOUS)) == "bat"


def test_lexicon_only_outputs_lexicon_words(lexicon):
    # greedy reads "bct" and "hatcat" (no space): the lexicon turns them into words
    log_probs = emissions("b", {"c": 0.5, "a": 0.4}, "t", " ", "h", "a", "t", "-", "c", "a", "t")
    assert TOKENIZER.decode(GreedyDecoder().decode(log_probs, torch.tensor([11]))[0].tokens) == "bct hatcat"
    assert text(beam(lexicon=str(lexicon)), log_probs) == "bat hat cat"


def test_missing_lm_is_named(tmp_path):
    with pytest.raises(DecoderFileError, match="nope.arpa"):
        beam(lm=str(tmp_path / "nope.arpa"))


def test_malformed_lm_is_named(tmp_path, lexicon):
    bad = tmp_path / "bad.arpa"
    bad.write_text("hello world\n")
    with pytest.raises(DecoderFileError, match=r"bad.arpa: not an ARPA file"):
        beam(lm=str(bad), lexicon=str(lexicon))
    unigram_only = tmp_path / "unigram.arpa"
    unigram_only.write_text("\\data\\\nngram 1=1\n\n\\1-grams:\n-1.0\tbat\n\n\\end\\\n")
    with pytest.raises(DecoderFileError, match=r"unigram.arpa: cannot load language model"):
        beam(lm=str(unigram_only), lexicon=str(lexicon))


def test_word_lm_without_lexicon_is_refused(word_lm):
    with pytest.raises(DecoderFileError, match="needs a lexicon"):
        beam(lm=str(word_lm))


def test_unspellable_lexicon_word_is_named(tmp_path):
    with pytest.raises(TokenizerError, match="dog"):
        write_lexicon(["bat", "dog", "cat"], TOKENIZER, tmp_path / "lexicon.txt")


def test_bad_lexicon_file_is_named(tmp_path):
    with pytest.raises(DecoderFileError, match="missing.txt"):
        beam(lexicon=str(tmp_path / "missing.txt"))
    bad = tmp_path / "lexicon.txt"
    bad.write_text("bat b a t\ndog d o g\n")
    with pytest.raises(DecoderFileError, match=r"lexicon.txt: line 2: tokens \['d', 'o', 'g'\]"):
        beam(lexicon=str(bad))
    bad.write_text("bat b a t |\n")  # torchaudio's examples end spellings with the separator
    with pytest.raises(DecoderFileError, match=r"lexicon.txt: line 1: spell words without"):
        beam(lexicon=str(bad))


def test_config_section_builds_a_beam_decoder():
    config = {"type": "beam", "beam_size": 4}
    assert isinstance(build_decoder(config, TOKENIZER), BeamSearchDecoder)
    with pytest.raises(ValueError, match=r"^decoder.beam_width is not a decoder setting \(decoder=beam takes: "):
        build_decoder({**config, "beam_width": 3}, TOKENIZER)
    with pytest.raises(ValueError, match=r"^decoder.beam_size: Value 'wide' of type 'str' could not be converted"):
        build_decoder({**config, "beam_size": "wide"}, TOKENIZER)
    with pytest.raises(ValueError, match=r"^decoder.lm needs decoder=beam \(decoder=greedy takes: type\)"):
        build_decoder({"type": "greedy", "lm": "lm.arpa"}, TOKENIZER)


def test_word_labels_with_a_word_lm_and_no_lexicon(word_lm):
    words = WordTokenizer.build(["bat cat hat"])  # labels: bat 1, cat 2, hat 3

    def frames(*probs: dict[int, float]) -> torch.Tensor:
        p = torch.full((len(probs), words.vocab_size), 1e-3)
        for t, frame in enumerate(probs):
            for label, q in frame.items():
                p[t, label] = q
        return (p / p.sum(-1, keepdim=True)).log()[None]

    ambiguous = frames({0: 0.9}, {1: 0.45, 2: 0.55}, {0: 0.9}, {3: 0.9}, {3: 0.9}, {0: 0.9})
    lengths = torch.tensor([ambiguous.shape[1]])
    plain = BeamSearchDecoder(words, BeamSearchOptions(beam_size=20)).decode(ambiguous, lengths)[0]
    assert words.decode(plain.tokens) == "cat hat" and plain.tokens == [2, 3] and plain.frames == [1, 3]
    scored = BeamSearchDecoder(words, BeamSearchOptions(beam_size=20, lm=str(word_lm))).decode(ambiguous, lengths)
    assert words.decode(scored[0].tokens) == "bat hat"


def test_a_lexicon_path_is_rebuilt_to_spell_its_words():
    # Flashlight's path for "bat tat": the doubled "t" of "tat" came on adjacent frames (collapsed), and no
    # separator between the words; the tokens must spell the words, each token with a frame.
    ids = {s: i + 1 for i, s in enumerate(TOKENIZER.symbols)}
    spellings = {"bat": [[ids["b"], ids["a"], ids["t"]]], "tat": [[ids["t"], ids["a"], ids["t"]]]}
    path = [ids[c] for c in "bata"] + [ids["t"]]
    tokens, frames = _spelled_path(path, [1, 2, 3, 5, 7], ["bat", "tat"], spellings, ids[" "])
    assert TOKENIZER.decode(tokens) == "bat tat" and frames == [1, 2, 3, 5, 5, 5, 7]
    # a word without a spelling (<unk>) leaves the path as it was
    assert _spelled_path(path, [1, 2, 3, 5, 7], ["<unk>"], spellings, ids[" "]) == (path, [1, 2, 3, 5, 7])


def test_a_word_list_constrains_the_search_as_a_lexicon_file_does(lexicon):
    log_probs = emissions("b", {"c": 0.5, "a": 0.4}, "t", " ", "h", "a", "t", "-", "c", "a", "t")
    assert text(beam(words=["bat", "cat", "hat"]), log_probs) == text(beam(lexicon=str(lexicon)), log_probs)
    assert text(beam(words=["bat", "cat", "hat"]), log_probs) == "bat hat cat"


@pytest.mark.parametrize(
    "options, error, message",
    [
        ({"words": []}, ValueError, "decoder.words: give a non-empty list"),
        ({"words": ["bat"], "lexicon": "LEXICON"}, ValueError, "not both"),
        ({"words": ["bat", "dog"]}, TokenizerError, r"cannot spell these lexicon words with the tokenizer: \['dog'\]"),
    ],
)
def test_bad_word_lists_are_named(lexicon, options, error, message):
    options = {k: str(lexicon) if v == "LEXICON" else v for k, v in options.items()}
    with pytest.raises(error, match=message):
        beam(**options)
