import pytest

from asr.text import CharTokenizer, TokenizerError, normalize_text, tokenizer_from_dict


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
