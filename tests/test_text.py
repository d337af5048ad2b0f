import io

import pytest
import torch

from asr.text import (
    CharTokenizer,
    SentencePieceTokenizer,
    TokenizerError,
    build_tokenizer,
    normalize_text,
    tokenizer_from_dict,
)


@pytest.mark.parametrize(
    "raw, normalized",
    [
        ("Hello, World!", "hello world"),
        ("Don\u2019t  'quote' me", "don't quote me"),
        ("seven-three\tnine", "seven three nine"),
        ("route 66", "route"),
        ("  ", ""),
    ],
)
def test_normalize(raw, normalized):
    assert normalize_text(raw) == normalized


def test_tokenizer_round_trip_and_blank_is_zero():
    tok = CharTokenizer.build(["one two", "three"])
    ids = tok.encode("two three")
    assert 0 not in ids and tok.decode(ids) == "two three"
    assert tok.vocab_size == len(set("one two three")) + 1
    assert tok.decode([0, *ids, 0]) == "two three"


def test_tokenizer_rejects_characters_outside_vocabulary():
    tok = CharTokenizer.build(["abc"])
    with pytest.raises(TokenizerError, match="'xz'"):
        tok.encode("axz")


def test_tokenizer_survives_serialization():
    tok = CharTokenizer.build(["it's fine"])
    again = tokenizer_from_dict(tok.to_dict())
    assert again.symbols == tok.symbols and again.encode("it's") == tok.encode("it's")


def test_empty_training_text_is_an_error():
    with pytest.raises(TokenizerError, match="empty"):
        CharTokenizer.build(["", " "])


SENTENCES = [
    "the old mill stood by the river",
    "every morning the miller's daughter walked down to the water",
    "she counted the boats that passed the bend",
    "nobody knew who built the mill or when",
    "in spring the ice broke and the wheel turned again",
]


@pytest.mark.parametrize("model_type", ["unigram", "bpe"])
def test_sentencepiece_round_trip_and_blank_is_zero(model_type):
    tok = SentencePieceTokenizer.train(SENTENCES, vocab_size=40, model_type=model_type)
    assert tok.vocab_size == 41
    for text in [*SENTENCES, "the daughter knew the river", "don't"]:
        ids = tok.encode(text)
        assert 0 not in ids and max(ids) < tok.vocab_size
        assert tok.decode([0, *ids, 0]) == text


def test_char_tokenizer_round_trips_normalized_text():
    tok = CharTokenizer.build(SENTENCES)
    text = normalize_text("The MILLER'S daughter, by the river!")
    assert tok.decode(tok.encode(text)) == text


def test_sentencepiece_survives_a_weights_only_model_file():
    tok = SentencePieceTokenizer.train(SENTENCES, vocab_size=40)
    buffer = io.BytesIO()
    torch.save({"tokenizer": tok.to_dict()}, buffer)
    buffer.seek(0)
    again = tokenizer_from_dict(torch.load(buffer, weights_only=True)["tokenizer"])
    assert again.symbols == tok.symbols and again.encode(SENTENCES[1]) == tok.encode(SENTENCES[1])


def test_sentencepiece_rejects_characters_it_never_saw():
    tok = SentencePieceTokenizer.train(SENTENCES, vocab_size=40)
    with pytest.raises(TokenizerError, match="'zé'"):
        tok.encode("the zé")


@pytest.mark.parametrize("model_type", ["unigram", "bpe"])
def test_too_many_pieces_names_the_maximum(model_type):
    with pytest.raises(TokenizerError, match=rf"at most \d+ {model_type} pieces, 5000 were asked for"):
        SentencePieceTokenizer.train(SENTENCES, vocab_size=5000, model_type=model_type)


def test_tokenizer_from_config():
    assert isinstance(build_tokenizer({"type": "char"}, SENTENCES), CharTokenizer)
    tok = build_tokenizer({"type": "sentencepiece", "vocab_size": 30, "model_type": "bpe"}, SENTENCES)
    assert isinstance(tok, SentencePieceTokenizer) and tok.vocab_size == 31
    with pytest.raises(TokenizerError, match="unknown tokenizer type 'words'"):
        build_tokenizer({"type": "words"}, SENTENCES)
    with pytest.raises(ValueError, match="tokenizer.model_type=char: unknown SentencePiece model_type"):
        build_tokenizer({"type": "sentencepiece", "vocab_size": 30, "model_type": "char"}, SENTENCES)
    with pytest.raises(TokenizerError, match="empty"):
        SentencePieceTokenizer.train(["", " "], vocab_size=30)
