"""ONNX export: ONNX Runtime gives PyTorch's log-probabilities on padded batches, metadata travels, int8 runs,
and transcribe/evaluate take the exported file."""

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")

from asr.audio import AudioSource  # noqa: E402
from asr.cli.main import main  # noqa: E402
from asr.decoding import GreedyDecoder  # noqa: E402
from asr.model_file import ModelFileError, load_model  # noqa: E402
from asr.onnx_export import export_onnx, quantize_onnx  # noqa: E402
from asr.onnx_model import load_onnx_model  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"
TINY = FIXTURES / "tiny_model.pt"
TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    """The committed tiny model exported once for the module (an export takes seconds)."""
    return export_onnx(TINY, tmp_path_factory.mktemp("onnx") / "tiny.onnx")


def _compare(onnx_path: Path, wavs: list[torch.Tensor]) -> tuple[float, list, list]:
    """Max abs log-prob difference over valid frames, and both greedy results, for ``wavs`` padded together."""
    batch = torch.nn.utils.rnn.pad_sequence(wavs, batch_first=True)
    lengths = torch.tensor([w.numel() for w in wavs])
    with torch.no_grad():
        expected, expected_lengths = load_model(TINY).recognizer(batch, lengths)
    got, got_lengths = load_onnx_model(onnx_path).recognizer(batch, lengths)
    assert got_lengths.tolist() == expected_lengths.tolist()
    diff = max((got[i, :n] - expected[i, :n]).abs().max().item() for i, n in enumerate(expected_lengths.tolist()))
    decoder = GreedyDecoder()
    hyps = [h.tokens for h in decoder.decode(got, got_lengths)]
    reference = [h.tokens for h in decoder.decode(expected, expected_lengths)]
    return diff, hyps, reference


def test_probe_matches_pytorch_and_the_recorded_output(exported):
    from fixtures.make_tiny_model import probe_input

    recorded = torch.tensor(json.loads((FIXTURES / "tiny_model_expected.json").read_text())["log_probs"])
    log_probs, lengths = load_onnx_model(exported).recognizer(probe_input(), torch.tensor([8000]))
    assert lengths.tolist() == [recorded.shape[0]]
    assert (log_probs[0] - recorded).abs().max().item() <= TOLERANCE


def test_padded_batch_of_real_utterances_matches_pytorch(exported, fsdd_dir):
    names = ["0_george_0.wav", "5_jackson_12.wav", "7_lucas_3.wav", "9_yweweler_40.wav", "3_nicolas_1.wav"]
    wavs = [AudioSource(str(fsdd_dir / name)).load(16000) for name in names]
    assert len({w.numel() for w in wavs}) == len(wavs)  # different lengths: the batch is padded
    diff, hyps, reference = _compare(exported, wavs)
    assert diff <= TOLERANCE
    assert hyps == reference


def test_batch_of_one_and_dynamic_lengths(exported):
    generator = torch.Generator().manual_seed(1)
    for sizes in ([1360], [4000, 24000, 9000]):
        diff, hyps, reference = _compare(exported, [torch.randn(n, generator=generator) * 0.1 for n in sizes])
        assert diff <= TOLERANCE and hyps == reference


def test_metadata_carries_tokenizer_and_decoder(exported):
    props = {p.key: p.value for p in onnx.load(str(exported)).metadata_props}
    model = load_model(TINY)
    assert json.loads(props["asr.tokenizer"]) == model.tokenizer.to_dict()
    assert json.loads(props["asr.config"])["decoder"] == model.config["decoder"]
    assert int(props["asr.min_samples"]) == model.recognizer.min_samples()
    assert float(props["asr.seconds_per_output_frame"]) == model.recognizer.seconds_per_output_frame
    inputs = {i.name: [d.dim_param for d in i.type.tensor_type.shape.dim] for i in onnx.load(str(exported)).graph.input}
    assert inputs == {"waveform": ["batch", "samples"], "lengths": ["batch"]}


def test_int8_quantizes_the_lstm_and_stays_close(exported, tmp_path):
    int8 = quantize_onnx(exported, tmp_path / "tiny-int8.onnx")
    graph = onnx.load(str(int8))
    ops = {node.op_type for node in graph.graph.node}
    assert "DynamicQuantizeLSTM" in ops and "LSTM" not in ops
    assert {p.key: p.value for p in graph.metadata_props}["asr.int8"] == "true"
    generator = torch.Generator().manual_seed(2)
    diff, _, _ = _compare(int8, [torch.randn(n, generator=generator) * 0.1 for n in (8000, 5000)])
    assert diff < 0.05


def test_transcribe_and_evaluate_take_the_exported_file(exported, fsdd_dir, tmp_path, capsys):
    wav = str(fsdd_dir / "7_lucas_3.wav")
    assert main(["transcribe", str(TINY), wav, "--format", "jsonl", "--device", "cpu"]) == 0
    torch_out = json.loads(capsys.readouterr().out)
    assert main(["transcribe", str(exported), wav, "--format", "jsonl", "--device", "cpu"]) == 0
    onnx_out = json.loads(capsys.readouterr().out)
    assert onnx_out["text"] == torch_out["text"]
    assert [w["word"] for w in onnx_out["words"]] == [w["word"] for w in torch_out["words"]]
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(json.dumps({"audio_filepath": wav, "duration": 1.0, "text": "seven"}) + "\n")
    copy = tmp_path / "tiny.model"  # no .onnx name: --runtime onnx says what it is
    copy.write_bytes(exported.read_bytes())
    assert main(["evaluate", str(copy), str(manifest), "--runtime", "onnx", "--device", "cpu"]) == 0
    assert "WER" in capsys.readouterr().out


def test_bad_onnx_files_are_named(tmp_path, capsys):
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"not a graph")
    with pytest.raises(ModelFileError, match="garbage.onnx: not a readable ONNX model"):
        load_onnx_model(garbage)
    plain = tmp_path / "plain.onnx"  # a valid graph that asr export did not write
    node = onnx.helper.make_node("Identity", ["x"], ["y"])
    value = onnx.helper.make_tensor_value_info
    graph = onnx.helper.make_graph([node], "g", [value("x", 1, [1])], [value("y", 1, [1])])
    onnx.save(onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", 18)]), str(plain))
    with pytest.raises(ModelFileError, match="plain.onnx: an ONNX file without asr metadata"):
        load_onnx_model(plain)
    sf.write(tmp_path / "a.wav", np.zeros(16000, dtype=np.float32), 16000)
    assert main(["transcribe", str(garbage), str(tmp_path / "a.wav")]) == 2
    assert "garbage.onnx" in capsys.readouterr().err


def test_export_names_a_bad_model_file(tmp_path, capsys):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a model")
    assert main(["export", str(bad), "--format", "onnx", "-o", str(tmp_path / "out.onnx")]) == 2
    assert "bad.pt: not a readable model file" in capsys.readouterr().err
    assert not (tmp_path / "out.onnx").exists()


def test_the_python_api_loads_the_exported_file(exported, fsdd_dir):
    import asr

    wav = fsdd_dir / "0_george_0.wav"
    assert asr.load(exported, device="cpu").transcribe(wav).text == asr.load(TINY, device="cpu").transcribe(wav).text


def test_a_graph_pointing_to_external_data_is_refused(tmp_path):
    (tmp_path / "secret.bin").write_bytes(b"\0" * 4)
    weight = onnx.helper.make_tensor("w", onnx.TensorProto.FLOAT, [1], [0.0])
    weight.ClearField("float_data")
    weight.data_location = onnx.TensorProto.EXTERNAL
    weight.external_data.add(key="location", value="secret.bin")
    node = onnx.helper.make_node("Add", ["x", "w"], ["y"])
    value = onnx.helper.make_tensor_value_info
    graph = onnx.helper.make_graph([node], "g", [value("x", 1, [1])], [value("y", 1, [1])], initializer=[weight])
    hostile = tmp_path / "hostile.onnx"
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", 18)])
    hostile.write_bytes(model.SerializeToString())
    with pytest.raises(ModelFileError, match="hostile.onnx: the ONNX graph refers to external data"):
        load_onnx_model(hostile)
