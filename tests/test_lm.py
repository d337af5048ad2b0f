"""N-gram LM building: valid ARPA for KenLM and flashlight, normalized distributions, Kneser-Ney values, CLI."""

from __future__ import annotations

import json
import logging
import math
import random
import stat
import sys
from pathlib import Path

import pytest

from asr.cli.main import main
from asr.lm import FALLBACK_DISCOUNTS, LMBuildError, arpa_header_counts, build_arpa, build_lm, estimate_discounts


@pytest.fixture
def kenlm():
    """The KenLM Python module; tests that load models with it are skipped without it."""
    return pytest.importorskip("kenlm")


WORDS = "the a cat dog sat ran on mat quick brown fox jumps over lazy it's zero one two three four".split()


def corpus(sentences: int = 300, seed: int = 0) -> list[str]:
    """Zipf-like random text, with punctuation, digits and empty lines that normalization removes."""
    rng = random.Random(seed)
    weights = [1 / (rank + 1) for rank in range(len(WORDS))]
    lines = [" ".join(rng.choices(WORDS, weights, k=rng.randint(1, 8))) for _ in range(sentences)]
    return lines + ["The CAT, sat!", "", "123 ..."]


def sections(arpa: str) -> dict[int, dict[tuple[str, ...], tuple[float, float | None]]]:
    """order -> n-gram -> (log10 prob, log10 backoff or None), parsed from ARPA text."""
    result, order = {}, None
    for line in arpa.splitlines():
        if line.endswith("-grams:"):
            order = int(line[1 : line.index("-")])
            result[order] = {}
        elif line.startswith("\\end"):
            order = None
        elif order and line:
            fields = line.split("\t")
            result[order][tuple(fields[1].split())] = (float(fields[0]), float(fields[2]) if len(fields) > 2 else None)
    return result


def write(tmp_path: Path, arpa: str, name: str = "lm.arpa") -> Path:
    path = tmp_path / name
    path.write_text(arpa, encoding="utf-8")
    return path


def state_after(kenlm, model, history: tuple[str, ...]):
    """KenLM state after the history; a history starting with <s> starts at the sentence beginning."""
    state = kenlm.State()
    if history[:1] == ("<s>",):
        model.BeginSentenceWrite(state)
        history = history[1:]
    else:
        model.NullContextWrite(state)
    for word in history:
        out = kenlm.State()
        model.BaseScore(state, word, out)
        state = out
    return state


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_unigrams_sum_to_one(order):
    unigrams = sections(build_arpa(corpus(), order))[1]
    assert ("<unk>",) in unigrams and ("</s>",) in unigrams and unigrams[("<s>",)][0] == -99
    assert sum(10**logp for ngram, (logp, _) in unigrams.items() if ngram != ("<s>",)) == pytest.approx(1, abs=1e-3)


@pytest.mark.parametrize("order", [2, 3, 4])  # KenLM loads bigram models and up
def test_every_history_sums_to_one_in_kenlm(kenlm, tmp_path, order):
    arpa = build_arpa(corpus(), order)
    model = kenlm.Model(str(write(tmp_path, arpa)))
    assert model.order == order
    vocab = [ngram[0] for ngram in sections(arpa)[1] if ngram != ("<s>",)]
    histories = [(), ("<s>",), ("the",), ("cat",), ("<s>", "the"), ("the", "cat"), ("the", "cat", "sat")]
    for history in [*histories, ("fox", "sat"), ("<s>", "<unk>")]:
        state = state_after(kenlm, model, history)
        total = sum(10 ** model.BaseScore(state, word, kenlm.State()) for word in vocab)
        assert total == pytest.approx(1, abs=1e-3), (order, history)


@pytest.mark.usefixtures("flashlight")
def test_loads_in_the_flashlight_decoder(tmp_path):
    decoder_module = pytest.importorskip("torchaudio.models.decoder")
    path = write(tmp_path, build_arpa(corpus(), 3))
    tokens = ["-", "|", "'", *"abcdefghijklmnopqrstuvwxyz"]
    assert decoder_module.ctc_decoder(lexicon=None, tokens=tokens, lm=str(path)) is not None


def test_orders_the_decoder_cannot_load_are_refused_when_building(tmp_path):
    build_lm(corpus(), tmp_path / "six.arpa", order=6, use_lmplz="never")
    with pytest.raises(LMBuildError, match="order 7: the beam decoder's KenLM loads models of order 6 at most"):
        build_lm(corpus(), tmp_path / "seven.arpa", order=7, use_lmplz="never")
    assert not (tmp_path / "seven.arpa").exists()


def test_kenlm_load_errors_keep_their_whole_message(tmp_path):
    from asr.decoding.beam import BeamSearchDecoder, BeamSearchOptions, DecoderFileError, write_lexicon
    from asr.text import CharTokenizer, normalize_text

    seven = write(tmp_path, build_arpa(corpus(), 7))
    words = sorted({word for line in corpus() for word in normalize_text(line).split()})
    tokenizer = CharTokenizer.build(words)
    write_lexicon(words, tokenizer, tmp_path / "lexicon.txt")
    options = BeamSearchOptions(lm=str(seven), lexicon=str(tmp_path / "lexicon.txt"))
    with pytest.raises(DecoderFileError, match="order 7 but KenLM was compiled to support up to 6.*KENLM_MAX_ORDER"):
        BeamSearchDecoder(tokenizer, options)


def test_header_counts_match_the_sections(tmp_path):
    arpa = build_arpa(corpus(), 4)
    counts = arpa_header_counts(write(tmp_path, arpa))
    assert counts == tuple(len(ngrams) for _, ngrams in sorted(sections(arpa).items()))
    assert len(counts) == 4 and all(c > 0 for c in counts)


def test_backoffs_only_below_the_highest_order():
    parsed = sections(build_arpa(corpus(), 3))
    assert all(backoff is not None for order in (1, 2) for _, backoff in parsed[order].values())
    assert all(backoff is None for _, backoff in parsed[3].values())


def test_discounts_from_count_of_counts_by_hand():
    # Y = 10 / (10 + 2*4) = 5/9; Dk = k - (k+1) Y n(k+1) / nk
    d = estimate_discounts({1: 10, 2: 4, 3: 2, 4: 1})
    assert d.estimated
    assert (d.d1, d.d2, d.d3) == pytest.approx((5 / 9, 7 / 6, 17 / 9))
    assert (d(1), d(2), d(3), d(40)) == pytest.approx((5 / 9, 7 / 6, 17 / 9, 17 / 9))


@pytest.mark.parametrize("count_of_counts", [{1: 3, 2: 0, 3: 1, 4: 1}, {1: 10, 2: 1, 3: 10, 4: 1}, {}])
def test_undefined_or_out_of_range_discounts_fall_back(caplog, count_of_counts):
    # n2 = 0 leaves D2 undefined; n1=10 n2=1 n3=10 gives D2 = 2 - 3 * (10/12) * 10 < 0.
    with caplog.at_level(logging.WARNING, logger="asr.lm.ngram"):
        d = estimate_discounts(count_of_counts, order=2)
    assert (d.d1, d.d2, d.d3, d.estimated) == (*FALLBACK_DISCOUNTS, False)
    assert "2-grams" in caplog.text and "fallback" in caplog.text


def test_unigram_model_by_hand():
    # counts a=1 b=2 c=3 d=4 </s>=1: n1=2 n2=1 n3=1 n4=1, Y=1/2, D = 0.5, 0.5, 1.0
    summary_line = "a b b c c c d d d d"
    arpa = build_arpa([summary_line], order=1)
    unigrams = sections(arpa)[1]
    gamma, uniform = (0.5 * 2 + 0.5 * 1 + 1.0 * 2) / 11, 1 / 6  # vocabulary: a b c d </s> <unk>
    expected = {"a": 0.5 / 11, "b": 1.5 / 11, "c": 2 / 11, "d": 3 / 11, "</s>": 0.5 / 11, "<unk>": 0.0}
    for word, discounted in expected.items():
        assert 10 ** unigrams[(word,)][0] == pytest.approx(discounted + gamma * uniform, rel=1e-5), word
    assert unigrams[("<s>",)][0] == -99


def test_bigram_model_by_hand_with_fallback_discounts(caplog):
    # <s> a b </s> / <s> a </s>; every order has a zero count-of-count, so D = 0.5, 1, 1.5.
    # Unigram KN counts: a=1 (after <s>), b=1, </s>=2 -> total 4, gamma 0.5, uniform 1/4.
    with caplog.at_level(logging.WARNING, logger="asr.lm.ngram"):
        parsed = sections(build_arpa(["a b", "A!"], order=2))
    assert "fallback discounts" in caplog.text and "1-grams" in caplog.text and "2-grams" in caplog.text
    uni = {w: 0.125 + c for w, c in {"a": 0.125, "b": 0.125, "</s>": 0.25, "<unk>": 0.0}.items()}
    for word, p in uni.items():
        assert 10 ** parsed[1][(word,)][0] == pytest.approx(p, rel=1e-5), word
    bigrams = {
        ("<s>", "a"): (2 - 1.0) / 2 + 0.5 * uni["a"],
        ("a", "b"): 0.5 / 2 + 0.5 * uni["b"],
        ("a", "</s>"): 0.5 / 2 + 0.5 * uni["</s>"],
        ("b", "</s>"): 0.5 / 1 + 0.5 * uni["</s>"],
    }
    assert set(parsed[2]) == set(bigrams)
    for ngram, p in bigrams.items():
        assert 10 ** parsed[2][ngram][0] == pytest.approx(p, rel=1e-5), ngram
    backoffs = {w: 10 ** parsed[1][(w,)][1] for w in ("<s>", "a", "b", "</s>")}
    assert backoffs == pytest.approx({"<s>": 0.5, "a": 0.5, "b": 0.5, "</s>": 1.0})


def test_fallback_discounts_are_reported_in_the_summary(tmp_path):
    summary = build_lm(["a b", "a"], tmp_path / "lm.arpa", order=2, use_lmplz="never")
    assert [(d.d1, d.d2, d.d3) for d in summary.discounts] == [FALLBACK_DISCOUNTS] * 2
    assert not any(d.estimated for d in summary.discounts)
    assert any(d.estimated for d in build_lm(corpus(), tmp_path / "big.arpa", 3, use_lmplz="never").discounts)


def test_lower_orders_use_continuation_counts():
    # "francisco" is as frequent as "b" but only ever follows "san": Kneser-Ney makes it a rare unigram.
    lines = ["san francisco"] * 5 + [f"{w} b" for w in "cdefg"]
    unigrams = sections(build_arpa(lines, 2))[1]
    assert unigrams[("francisco",)][0] < unigrams[("b",)][0]


def test_output_is_deterministic_and_independent_of_line_order():
    lines = corpus()
    shuffled = lines[:]
    random.Random(1).shuffle(shuffled)
    assert build_arpa(lines) == build_arpa(shuffled)


def test_text_is_normalized():
    assert sections(build_arpa(["The CAT, sat!"], 1))[1].keys() == sections(build_arpa(["the cat sat"], 1))[1].keys()


def test_numbers_are_words_and_unclear_numbers_are_skipped_and_logged(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        summary = build_lm(["I paid $20", "add 1/2 a cup"], tmp_path / "lm.arpa", order=1, use_lmplz="never")
    assert summary.lines == 1 and summary.empty_lines == 1
    assert {("twenty",), ("dollars",)} <= set(sections((tmp_path / "lm.arpa").read_text())[1])
    assert any("line 2: skipped: '1/2': ambiguous number" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("lines", [[], ["", "  ", "!?"]])
def test_no_words_is_a_clear_error(lines):
    with pytest.raises(ValueError, match="no words"):
        build_arpa(lines)


def test_bad_order_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="order"):
        build_lm(["a b"], tmp_path / "lm.arpa", order=0)
    assert not (tmp_path / "lm.arpa").exists()


@pytest.fixture
def fake_lmplz(tmp_path, monkeypatch) -> Path:
    """An `lmplz` on PATH that records its arguments and writes this package's ARPA for its stdin to stdout."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "lmplz"
    script.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        "from asr.lm import build_arpa\n"
        "args = sys.argv[1:]\n"
        f"open({str(tmp_path / 'args.json')!r}, 'w').write(__import__('json').dumps(args))\n"
        "sys.stdout.write(build_arpa(sys.stdin, int(args[args.index('-o') + 1])))\n"  # as lmplz: ARPA on stdout
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(bin_dir))
    return tmp_path / "args.json"


def test_lmplz_is_used_when_on_path_and_allowed(tmp_path, fake_lmplz):
    summary = build_lm(["The cat sat.", "", "a dog"], tmp_path / "lm.arpa", order=2)
    assert summary.backend == "lmplz" and summary.ngram_counts == arpa_header_counts(tmp_path / "lm.arpa")
    assert (summary.lines, summary.empty_lines) == (2, 1)
    args = json.loads(fake_lmplz.read_text())
    assert args[:2] == ["-o", "2"] and "--discount_fallback" in args
    assert build_lm(["a dog"], tmp_path / "py.arpa", order=2, use_lmplz="never").backend == "python"


def test_lmplz_always_without_lmplz_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(LMBuildError, match="lmplz"):
        build_lm(["a b"], tmp_path / "lm.arpa", use_lmplz="always")
    assert build_lm(["a b"], tmp_path / "lm.arpa", use_lmplz="auto").backend == "python"


def run_cli(*argv: str) -> int:
    return main(list(argv))


def write_manifest(path: Path, texts: list[str], extra: list[str] = ()) -> Path:
    rows = [json.dumps({"audio_filepath": f"{i}.wav", "duration": 1.0, "text": t}) for i, t in enumerate(texts)]
    path.write_text("\n".join([*rows, *extra]) + "\n")
    return path


def test_cli_builds_from_a_manifest_and_text(kenlm, tmp_path, capsys):
    manifest = write_manifest(tmp_path / "train.jsonl", ["one two three", "two three", "..."])
    text = tmp_path / "extra.txt"
    text.write_text("three four\n\n")
    out = tmp_path / "lm" / "digits.arpa"
    code = run_cli("lm", "build", "--manifest", str(manifest), "--text", str(text), "--order", "2", "--out", str(out))
    assert code == 0
    summary = capsys.readouterr().out
    assert summary.count("\n") == 1 and "3 lines used, 2 skipped" in summary
    assert "1-grams 7" in summary  # <s> </s> <unk> one two three four
    assert kenlm.Model(str(out)).order == 2


def test_cli_counts_bad_manifest_rows(tmp_path, capsys):
    manifest = write_manifest(tmp_path / "m.jsonl", ["one two"], extra=["{broken"])
    assert run_cli("lm", "build", "--manifest", str(manifest), "--out", str(tmp_path / "lm.arpa")) == 1
    assert "1 bad manifest rows" in capsys.readouterr().out


@pytest.mark.parametrize("option", ["--text", "--manifest"])
def test_cli_missing_file_exits_2_naming_it(tmp_path, capsys, option):
    missing = tmp_path / "nope.txt"
    out = tmp_path / "lm.arpa"
    assert run_cli("lm", "build", option, str(missing), "--out", str(out)) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and str(missing) in err
    assert not out.exists()


def test_cli_text_without_words_exits_2(tmp_path, capsys):
    manifest = write_manifest(tmp_path / "m.jsonl", ["...", "?!"])
    assert run_cli("lm", "build", "--manifest", str(manifest), "--out", str(tmp_path / "lm.arpa")) == 2
    assert "error: no words" in capsys.readouterr().err


def test_cli_needs_some_input(tmp_path, capsys):
    assert run_cli("lm", "build", "--out", str(tmp_path / "lm.arpa")) == 2
    assert "--text" in capsys.readouterr().err


def test_log10_probabilities_are_finite():
    parsed = sections(build_arpa(corpus(), 3))
    values = [v for ngrams in parsed.values() for p, b in ngrams.values() for v in (p, b) if v is not None]
    assert all(math.isfinite(v) and v <= 0 for v in values)
