from asr.metrics import WordEdits, align_words, char_errors, corpus_errors, word_errors


def test_word_errors_count_each_kind():
    counts = word_errors("one two three four", "one too three four five")
    assert (counts.substitutions, counts.deletions, counts.insertions, counts.hits) == (1, 0, 1, 3)
    assert counts.rate == 2 / 4


def test_deletions_and_empty_hypothesis():
    counts = word_errors("a b c", "")
    assert counts.deletions == 3 and counts.rate == 1.0


def test_empty_reference():
    assert word_errors("", "").rate == 0.0
    assert word_errors("", "uh").insertions == 1


def test_corpus_rate_is_pooled_not_averaged():
    words, chars = corpus_errors(["a", "b c d e"], ["x", "b c d e"])
    assert words.errors == 1 and words.reference_length == 5 and words.rate == 0.2
    assert chars.rate == char_errors("a", "x").errors / (1 + 7)


def test_align_words_names_each_edited_word_once():
    counts, edits = align_words("one two three four five", "one too tree four")
    assert edits.substitutions == (("two", "too"), ("three", "tree"))  # two words, not one "two three" phrase
    assert edits.deletions == ("five",) and edits.insertions == ()
    counts, edits = align_words("a b", "x a b c d")
    assert edits.insertions == ("x", "c", "d") and counts.insertions == 3
    assert align_words("", "") == (word_errors("", ""), WordEdits())
