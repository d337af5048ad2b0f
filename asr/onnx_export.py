"""Exporting a model file to ONNX, whole (log-mel frontend included), optionally with int8 weights.

The graph takes waveforms, not features, so a program that runs the file needs
nothing of this package. Exporting, the frontend computes its power spectrum as one
strided convolution with windowed DFT kernels (``asr.features.LogMel``) rather than
through ONNX's ``STFT`` operator, which ONNX Runtime runs as a plain DFT for a
400-sample window and which took two thirds of the graph's time; the mel filterbank,
log and normalization follow as in training (the parity tests hold it to PyTorch's
log-probabilities within 1e-4). Batch and sample axes are dynamic and each
utterance's length goes in beside it, so padded batches give the outputs each
utterance gives alone, as in PyTorch.

The recognizer runs ``torch.lstm`` on its own weights (``asr.model.BiLSTM``), so
PyTorch's ``quantize_dynamic``, which swaps ``nn.LSTM`` modules, finds nothing to
quantize. The exported graph holds standard ``LSTM`` and ``MatMul`` nodes instead,
which ONNX Runtime's ``quantize_dynamic`` turns into int8 weights with activations
quantized on the fly: that is the int8 path.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import onnx
import torch

from asr.model_file import LoadedModel, load_model
from asr.onnx_model import INPUTS, OUTPUTS, OnnxMetadata

OPSET = 18
# The node types whose weights int8 export quantizes: the BiLSTM and the output layer, which hold
# nearly all the weights; the two small subsampling convolutions stay float.
INT8_OPS = ["LSTM", "MatMul", "Gemm"]


def metadata_for(model: LoadedModel, int8: bool) -> OnnxMetadata:
    """The metadata an export of ``model`` carries."""
    recognizer = model.recognizer
    return OnnxMetadata(
        config=model.config,
        tokenizer=model.tokenizer.to_dict(),
        sample_rate=recognizer.frontend.sample_rate,
        min_samples=recognizer.min_samples(),
        seconds_per_output_frame=recognizer.seconds_per_output_frame,
        frame_offset=model.frame_offset,
        int8=int8,
    )


def export_onnx(model_path: str | os.PathLike, path: str | os.PathLike, int8: bool = False) -> Path:
    """Write the model file ``model_path`` as one self-contained ONNX file at ``path`` (replaced atomically);
    with ``int8``, its weights quantized (``quantize_onnx``).

    PyTorch's exporter runs in a fresh process: a second export in one process (torch 2.14) gives a
    graph whose time axis is fixed to the first example's frame count, which fails on other lengths."""
    model = load_model(model_path)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".export-") as tmp:
        graph = Path(tmp) / "fp32.onnx"
        child = [sys.executable, "-m", "asr.onnx_export", str(model_path), str(graph)]
        done = subprocess.run(child, capture_output=True, text=True)
        if done.returncode:
            last = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise RuntimeError(f"{model_path}: the ONNX export failed: {last}")
        proto = _plain_shapes(onnx.load(str(graph)))
        onnx.helper.set_model_props(proto, metadata_for(model, int8=False).to_props())
        onnx.save(proto, str(graph))
        if int8:
            return quantize_onnx(graph, path)
        os.replace(graph, path)
    return path


def quantize_onnx(source: str | os.PathLike, path: str | os.PathLike) -> Path:
    """An exported float graph with its acoustic model's LSTM and matrix-product weights in int8
    (ONNX Runtime's dynamic quantization; activations are quantized on the fly), written atomically
    to ``path``. The frontend's mel filterbank product stays float, as features must match training."""
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic

    path = Path(path)
    props = {p.key: p.value for p in onnx.load(str(source), load_external_data=False).metadata_props}
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".quantize-") as tmp:
        # The exporter leaves larger LSTM weights as transposes and reshapes of the parameters, computed at
        # run time; the quantizer only sees constant weights, so ONNX Runtime's basic optimizations fold them.
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        options.optimized_model_filepath = str(Path(tmp) / "folded.onnx")
        ort.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])
        folded = onnx.load(options.optimized_model_filepath)
        frontend = [node.name for node in folded.graph.node if any(i.startswith("frontend.") for i in node.input)]
        quantized = Path(tmp) / "int8.onnx"
        quantize_dynamic(
            options.optimized_model_filepath,
            quantized,
            weight_type=QuantType.QInt8,
            op_types_to_quantize=INT8_OPS,
            nodes_to_exclude=frontend,
        )
        proto = onnx.load(str(quantized))
        onnx.helper.set_model_props(proto, {**props, "asr.int8": "true"})
        onnx.save(proto, str(quantized))
        os.replace(quantized, path)
    return path


def _export_graph(model_path: str, out: str) -> None:
    """PyTorch's ONNX export of a model file's recognizer to ``out``, waveforms and lengths in."""
    recognizer = load_model(model_path).recognizer.eval()
    shortest = recognizer.min_samples()
    # Two utterances of different lengths, so the traced graph keeps lengths general.
    generator = torch.Generator().manual_seed(0)
    wav = torch.randn(2, 8 * shortest, generator=generator) * 0.1
    lengths = torch.tensor([8 * shortest, 5 * shortest])
    dynamic = torch.export.Dim.DYNAMIC
    with torch.no_grad():
        program = torch.onnx.export(
            recognizer,
            (wav, lengths),
            dynamo=True,
            opset_version=OPSET,
            input_names=list(INPUTS),
            output_names=list(OUTPUTS),
            dynamic_shapes={"wav": {0: dynamic, 1: dynamic}, "lengths": {0: dynamic}},
            verbose=False,
        )
    program.save(out)


def _plain_shapes(proto: onnx.ModelProto) -> onnx.ModelProto:
    """The graph without the exporter's shape annotations past its inputs, which can hold the example's
    frame count or symbolic formulas (``15*Min(...)``) that ONNX Runtime's quantizer reads as fixed sizes;
    the axes are named batch, samples and frames."""
    del proto.graph.value_info[:]
    axes = {"waveform": ("batch", "samples"), "lengths": ("batch",), "log_probs": ("batch", "frames", None)}
    axes["out_lengths"] = axes["lengths"]
    for value in [*proto.graph.input, *proto.graph.output]:
        for dim, name in zip(value.type.tensor_type.shape.dim, axes[value.name]):
            if name:
                dim.dim_param = name
    return proto


if __name__ == "__main__":  # the exporting process of export_onnx: MODEL_FILE OUT
    _export_graph(sys.argv[1], sys.argv[2])
