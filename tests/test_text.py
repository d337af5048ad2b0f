import io

import pytest
import torch

from asr.corpora.digits import DIGIT_WORDS
from asr.decoding import GreedyDecoder
from asr.text import (
    CharTokenizer,
    SentencePieceTokenizer,
    TokenizerError,
    UnspellableError,
    WordTokenizer,
    build_tokenizer,
    normalize_text,
    tokenizer_from_dict,
)
from asr.text.numbers import spell_numbers


@pytest.mark.parametrize(
    "raw, normalized",
    [
        ("Hello, World!", "hello world"),
        ("Don\u2019t  'quote' me", "don't quote me"),
        ("seven-three\tnine", "seven three nine"),
        ("route 66", "route sixty six"),
        ("  ", ""),
    ],
)
def test_normalize(raw, normalized):
    assert normalize_text(raw) == normalized


# Real-world number writing and what normalization keeps of it (before: every digit became a space).
@pytest.mark.parametrize(
    "raw, normalized",
    [
        ("I paid 20 dollars on the 1st", "i paid twenty dollars on the first"),
        ("I paid $20 on the 1st.", "i paid twenty dollars on the first"),
        ("3.5", "three point five"),
        ("It costs $3.50", "it costs three dollars fifty cents"),
        ("$1", "one dollar"),
        ("£5.99", "five pounds ninety nine pence"),
        ("50%", "fifty percent"),
        ("a 12.5 % rise", "a twelve point five percent rise"),
        ("COVID-19", "covid nineteen"),
        ("the 2nd-floor office", "the second floor office"),
        ("the 21st century", "the twenty first century"),
        ("11th hour", "eleventh hour"),
        ("in 1999", "in nineteen ninety nine"),
        ("in 2005", "in two thousand and five"),
        ("born 1905", "born nineteen oh five"),
        ("the 2020 election", "the twenty twenty election"),
        ("the 1990s", "the nineteen nineties"),
        ("the '80s and 80s", "the eighties and eighties"),
        ("at 3:30 pm", "at three thirty pm"),
        ("at 10:05", "at ten oh five"),
        ("at 7:00", "at seven o'clock"),
        ("1,000,000 people", "one million people"),
        ("room 101", "room one hundred and one"),
        ("agent 007", "agent zero zero seven"),
        ("H2O and MP3", "h two o and mp three"),
        ("4th of July", "fourth of july"),
        ("one two three", "one two three"),
    ],
)
def test_numbers_are_spelled_out(raw, normalized):
    assert normalize_text(raw) == normalized


@pytest.mark.parametrize("raw", ["1/2 cup", "on 12/05/2020", "version 1.2.3", "open 24/7", "\u00bd a cup"])
def test_a_number_with_an_unclear_reading_is_reported_not_changed(raw):
    with pytest.raises(UnspellableError, match="ambiguous number"):
        normalize_text(raw)


def test_numbers_are_spelled_in_the_corpus_language():
    assert normalize_text("Ich habe 20 Euro, 2021", "de") == "ich habe zwanzig euro zweitausendeinundzwanzig"
    assert normalize_text("J'ai 21 ans", "fr") == "j'ai vingt et un ans"
    with pytest.raises(UnspellableError, match="'50%': percent words exist in English only"):
        normalize_text("50%", "de")
    with pytest.raises(UnspellableError, match="cannot spell 20 in language 'xx'"):
        normalize_text("20", "xx")
    assert normalize_text("no digits here", "xx") == "no digits here"


def test_spelled_digit_words_are_untouched():
    # The digits recipe's transcripts are digit words: normalization must leave them as they were.
    text = " ".join(DIGIT_WORDS[d] for d in [*range(10), 0, 8, 5])
    assert normalize_text(text) == text and spell_numbers(text) is text
    assert normalize_text("Oh, Nine-Eight!") == "oh nine eight"


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
    tok = SentencePieceTokenizer.train(SENTENCES, vocab_size=40, model_type="unigram")
    buffer = io.BytesIO()
    torch.save({"tokenizer": tok.to_dict()}, buffer)
    buffer.seek(0)
    again = tokenizer_from_dict(torch.load(buffer, weights_only=True)["tokenizer"])
    assert again.symbols == tok.symbols and again.encode(SENTENCES[1]) == tok.encode(SENTENCES[1])


def test_sentencepiece_rejects_characters_it_never_saw():
    tok = SentencePieceTokenizer.train(SENTENCES, vocab_size=40, model_type="unigram")
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
    assert isinstance(build_tokenizer({"type": "word"}, SENTENCES), WordTokenizer)
    with pytest.raises(TokenizerError, match="unknown tokenizer type 'words'"):
        build_tokenizer({"type": "words"}, SENTENCES)
    with pytest.raises(ValueError, match="tokenizer.model_type=char: unknown SentencePiece model_type"):
        build_tokenizer({"type": "sentencepiece", "vocab_size": 30, "model_type": "char"}, SENTENCES)
    with pytest.raises(TokenizerError, match="empty"):
        SentencePieceTokenizer.train(["", " "], vocab_size=30, model_type="unigram")


def test_word_tokenizer_round_trip_one_label_per_word():
    tok = WordTokenizer.build(["one two", "three two one"])
    assert tok.symbols == ["one", "three", "two"] and tok.vocab_size == 4
    ids = tok.encode("two three one")
    assert ids == [3, 2, 1] and tok.decode([0, *ids, 0, 0]) == "two three one"
    assert tok.separator_id is None and all(tok.starts_word(i) for i in ids) and not tok.starts_word(0)
    again = tokenizer_from_dict(tok.to_dict())
    assert isinstance(again, WordTokenizer) and again.symbols == tok.symbols


def test_word_tokenizer_names_words_outside_the_vocabulary():
    tok = WordTokenizer.build(["one two"])
    with pytest.raises(TokenizerError, match=r"words outside the vocabulary: \['owe', 'tree'\]"):
        tok.encode("one tree owe")
    with pytest.raises(TokenizerError, match="empty"):
        WordTokenizer.build([" "])


def test_any_output_of_a_word_model_is_a_sequence_of_training_words():
    tok = WordTokenizer.build(["oh one two three four five six seven eight nine zero"])
    torch.manual_seed(0)
    log_probs = torch.randn(4, 50, tok.vocab_size).log_softmax(-1)
    for hyp in GreedyDecoder().decode(log_probs, torch.full((4,), 50)):
        words = tok.decode(hyp.tokens).split()
        assert words and set(words) <= set(tok.symbols)
