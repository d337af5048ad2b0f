"""Vocal tract length normalization: the frontend's warp, the choice of warp per speaker, and the commands."""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf
import torch

from asr.audio import AudioSource
from asr.cli.main import main
from asr.data.manifest import read_manifest
from asr.evaluation import evaluate
from asr.features import FeatureConfig, Frontend
from asr.inference import Posteriors, Transcriber
from asr.model_file import load_model
from asr.results import Transcript
from asr.vtln import FACTORS, mean_frame_entropy, transcribe_warped

MODEL = Path(__file__).parent / "fixtures" / "tiny_model.pt"
RATE = 16000


def test_the_frontend_warp_moves_a_tone_up_the_mel_axis_and_one_changes_nothing() -> None:
    frontend = Frontend(FeatureConfig())
    t = torch.arange(RATE) / RATE
    wav = torch.sin(2 * torch.pi * 700 * t)[None]
    lengths = torch.tensor([RATE])
    plain, _ = frontend(wav, lengths)
    frontend.warp = 1.0
    assert torch.equal(frontend(wav, lengths)[0], plain)
    peak = plain[0, 10].argmax().item()
    frontend.warp = 1.3
    warped, _ = frontend(wav, lengths)
    assert abs(warped[0, 10].argmax().item() - 1.3 * peak) <= 1  # content of bin f now at bin 1.3 f


class ScriptedTranscriber:
    """Stands in for a Transcriber: a source's output frames are sure (low entropy) when the frontend's warp is
    the one scripted for its speaker and less sure with the distance from it; its transcript is its reference
    under that warp and a wrong word under any other."""

    def __init__(self, best: dict[str, float], references: dict[str, str]):
        self.recognizer = SimpleNamespace(frontend=SimpleNamespace(warp=1.0))
        self.best, self.references, self.warps_seen = best, references, []

    def posteriors(self, sources, progress=False):
        warp = self.recognizer.frontend.warp
        self.warps_seen.append(warp)
        for source in sources:
            target = self.best[Path(source.path).name.split("-")[0]]
            logits = torch.tensor([[10.0 - 40 * abs(warp - target), 0.0, 0.0]] * 5)
            yield SimpleNamespace(source=source, log_probs=logits.log_softmax(-1), error=None, warp=warp)

    def decode(self, posteriors, decoder=None):
        name = Path(posteriors.source.path).name
        right = posteriors.warp == self.best[name.split("-")[0]]
        return Transcript(posteriors.source, self.references[name] if right else "nine", duration=1.0)

    def transcribe(self, sources, progress=False):
        return map(self.decode, self.posteriors(sources))


def _manifest(tmp_path: Path, rows: list[tuple[str, str, str]]) -> Path:
    """A manifest of one-second silent files: (file name, speaker, text) per row."""
    lines = []
    for name, speaker, text in rows:
        sf.write(tmp_path / name, np.zeros(RATE, dtype=np.float32), RATE)
        lines.append(json.dumps({"audio_filepath": name, "duration": 1.0, "text": text, "speaker": speaker}))
    path = tmp_path / "m.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_each_speaker_is_decoded_under_its_own_warp_in_manifest_order(tmp_path: Path) -> None:
    rows = [("amy-0.wav", "amy", "one two"), ("bob-0.wav", "bob", "three"), ("amy-1.wav", "amy", "four")]
    manifest = read_manifest(_manifest(tmp_path, rows))
    transcriber = ScriptedTranscriber({"amy": 0.9, "bob": 0.85}, {name: text for name, _, text in rows})
    report = evaluate(transcriber, manifest, vtln=FACTORS)  # type: ignore[arg-type]
    assert report.warps == {"amy": 0.9, "bob": 0.85}
    assert [r.hypothesis for r in report.results] == ["one two", "three", "four"]
    assert report.words.errors == 0 and report.as_dict()["vtln_warps"] == {"amy": 0.9, "bob": 0.85}
    assert transcriber.recognizer.frontend.warp == 1.0  # put back after the search
    assert transcriber.warps_seen == [*FACTORS, *FACTORS]  # one forward pass per factor and speaker
    assert "vocal tract warp per speaker: amy 0.9, bob 0.85" in report.summary()
    plain = evaluate(transcriber, manifest)  # type: ignore[arg-type]
    assert plain.words.errors == 4 and not plain.warps  # without VTLN, the unwarped (wrong) transcripts


def test_vtln_evaluation_shows_progress_over_speakers_when_asked(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    rows = [("amy-0.wav", "amy", "one"), ("bob-0.wav", "bob", "two")]
    manifest = read_manifest(_manifest(tmp_path, rows))
    transcriber = ScriptedTranscriber({"amy": 1.0, "bob": 0.9}, {name: text for name, _, text in rows})
    evaluate(transcriber, manifest, vtln=FACTORS)  # type: ignore[arg-type]
    assert "speakers (VTLN)" not in capsys.readouterr().err
    evaluate(transcriber, manifest, progress=True, vtln=FACTORS)  # type: ignore[arg-type]
    bar = capsys.readouterr().err
    assert "speakers (VTLN): 100%" in bar and "2/2" in bar


def test_a_failed_pass_puts_the_warp_back_and_bad_factors_or_models_are_named() -> None:
    class Failing(ScriptedTranscriber):
        def posteriors(self, sources, progress=False):
            raise RuntimeError("out of memory")

    failing = Failing({}, {})
    with pytest.raises(RuntimeError):
        transcribe_warped(failing, [AudioSource("a.wav")])  # type: ignore[arg-type]
    assert failing.recognizer.frontend.warp == 1.0
    with pytest.raises(ValueError, match=r"warp factors must lie between 0.5 and 2, got \[3.0\]"):
        transcribe_warped(failing, [AudioSource("a.wav")], [3.0])  # type: ignore[arg-type]
    export = SimpleNamespace(recognizer=SimpleNamespace())
    with pytest.raises(ValueError, match="needs a PyTorch model file"):
        transcribe_warped(export, [AudioSource("a.wav")])  # type: ignore[arg-type]


def test_mean_frame_entropy_counts_every_frame_of_the_readable_sources() -> None:
    source = AudioSource("a.wav")
    uniform = Posteriors(source, torch.full((3, 4), 0.25).log())
    sure = Posteriors(source, torch.tensor([[0.0, -torch.inf, -torch.inf, -torch.inf]]))
    failed = Posteriors(source, torch.zeros(0, 4), error="a.wav: unreadable")
    assert mean_frame_entropy([uniform, failed]) == pytest.approx(math.log(4))
    assert mean_frame_entropy([uniform, sure]) == pytest.approx(3 * math.log(4) / 4)  # the mean over 4 frames
    assert mean_frame_entropy([failed]) == math.inf


def test_no_warp_wins_a_tie() -> None:
    transcriber = ScriptedTranscriber({"amy": 1.0}, {"amy-0.wav": "one"})
    transcriber.posteriors = lambda sources, progress=False: (  # the same frames whatever the warp
        SimpleNamespace(source=s, log_probs=torch.zeros(2, 3).log_softmax(-1), error=None, warp=1.0) for s in sources
    )
    choice, transcripts = transcribe_warped(transcriber, [AudioSource("amy-0.wav")])  # type: ignore[arg-type]
    assert choice.factor == 1.0 and set(choice.entropy) == set(FACTORS) and transcripts[0].text == "one"


def test_transcribe_vtln_prints_what_the_chosen_warp_gives(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    rng = np.random.default_rng(0)
    paths = []
    for k in range(2):
        envelope = np.repeat(rng.random(20) > 0.4, 1600)
        paths.append(tmp_path / f"s{k}.wav")
        sf.write(paths[-1], (0.3 * rng.standard_normal(20 * 1600) * envelope).astype(np.float32), RATE)
    assert main(["transcribe", str(MODEL), *map(str, paths), "--vtln", "--device", "cpu"]) == 0
    out, err = capsys.readouterr()
    factor = float(err.strip().splitlines()[-1].removeprefix("vocal tract warp: "))
    assert factor in FACTORS
    model = load_model(MODEL)
    model.recognizer.frontend.warp = factor
    expected = [t.text for t in Transcriber(model, device="cpu").transcribe([str(p) for p in paths])]
    assert out.splitlines() == [f"{p}\t{text}" for p, text in zip(paths, expected)]


class Unreadable(ScriptedTranscriber):
    """Every source is unreadable, as a missing file is: no output frames, an error."""

    def posteriors(self, sources, progress=False):
        for source in sources:
            yield SimpleNamespace(source=source, log_probs=torch.zeros(0, 3), error=f"{source.path}: unreadable")

    def decode(self, posteriors, decoder=None):
        return Transcript(posteriors.source, error=posteriors.error)


def test_a_speaker_with_no_readable_audio_gets_no_warp(tmp_path: Path) -> None:
    manifest = read_manifest(_manifest(tmp_path, [("amy-0.wav", "amy", "one")]))
    report = evaluate(Unreadable({}, {}), manifest, vtln=FACTORS)  # type: ignore[arg-type]
    assert report.warps == {} and report.failed == [f"{tmp_path / 'amy-0.wav'}: unreadable"]
    assert "vocal tract warp" not in report.summary()
    choice, transcripts = transcribe_warped(Unreadable({}, {}), [AudioSource("a.wav")])  # type: ignore[arg-type]
    assert not choice.measured and transcripts[0].error == "a.wav: unreadable"


def test_transcribe_vtln_names_no_warp_when_no_file_could_be_read(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    missing = tmp_path / "missing.wav"
    assert main(["transcribe", str(MODEL), str(missing), "--vtln", "--device", "cpu"]) == 1
    err = capsys.readouterr().err
    assert "vocal tract warp" not in err and str(missing) in err
