"""Exported ONNX models: the metadata that travels in the graph file, and running the graph with ONNX Runtime.

An exported file holds the whole recognizer, waveforms (B, S) at the model's
rate and their lengths in, CTC log-probabilities (B, T', V) and their lengths
out, and beside the graph, in the ONNX metadata (``metadata_props``), everything
a program needs to use it: the tokenizer, the decoder settings, the sample rate,
the shortest input and the output frame's duration. Any ONNX program reads those
as plain strings (``asr.*`` keys, JSON where structured).

Loading reads only the file named: a graph whose tensors refer to external data
files is refused, and nothing in the file is executed as Python.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from asr.model_file import FRAME_OFFSET, LoadedModel, ModelFileError
from asr.text import Tokenizer, tokenizer_from_dict

ONNX_FORMAT_VERSION = 1
INPUTS = ("waveform", "lengths")
OUTPUTS = ("log_probs", "out_lengths")


@dataclass(frozen=True)
class OnnxMetadata:
    """What travels beside an exported graph (as ``asr.<field>`` metadata strings)."""

    config: dict[str, Any]
    tokenizer: dict[str, Any]
    sample_rate: int
    min_samples: int
    seconds_per_output_frame: float
    frame_offset: float
    int8: bool = False
    format: int = ONNX_FORMAT_VERSION

    def to_props(self) -> dict[str, str]:
        """The ``metadata_props`` of the ONNX file."""
        return {
            "asr.format": str(self.format),
            "asr.config": json.dumps(self.config),
            "asr.tokenizer": json.dumps(_encode_bytes(self.tokenizer)),
            "asr.sample_rate": str(self.sample_rate),
            "asr.min_samples": str(self.min_samples),
            "asr.seconds_per_output_frame": repr(self.seconds_per_output_frame),
            "asr.frame_offset": repr(self.frame_offset),
            "asr.int8": "true" if self.int8 else "false",
        }

    @classmethod
    def from_props(cls, props: dict[str, str], path: str | os.PathLike) -> OnnxMetadata:
        """Read the metadata back; a file without it, or of another format version, is refused by name."""
        if "asr.format" not in props:
            raise ModelFileError(f"{path}: an ONNX file without asr metadata (not written by asr export)")
        if props["asr.format"] != str(ONNX_FORMAT_VERSION):
            raise ModelFileError(
                f"{path}: asr ONNX format {props['asr.format']} is not supported (this asr reads {ONNX_FORMAT_VERSION})"
            )
        try:
            return cls(
                config=json.loads(props["asr.config"]),
                tokenizer=_decode_bytes(json.loads(props["asr.tokenizer"])),
                sample_rate=int(props["asr.sample_rate"]),
                min_samples=int(props["asr.min_samples"]),
                seconds_per_output_frame=float(props["asr.seconds_per_output_frame"]),
                frame_offset=float(props.get("asr.frame_offset", FRAME_OFFSET)),
                int8=props.get("asr.int8") == "true",
            )
        except (KeyError, ValueError) as e:
            raise ModelFileError(f"{path}: broken asr metadata in the ONNX file ({type(e).__name__}: {e})") from e


def _encode_bytes(data: dict[str, Any]) -> dict[str, Any]:
    """JSON cannot hold bytes (a SentencePiece model): such values go as base64 under ``<key>_base64``."""
    return {
        (f"{k}_base64" if isinstance(v, bytes) else k): (base64.b64encode(v).decode() if isinstance(v, bytes) else v)
        for k, v in data.items()
    }


def _decode_bytes(data: dict[str, Any]) -> dict[str, Any]:
    return {
        (k.removesuffix("_base64") if k.endswith("_base64") else k): (
            base64.b64decode(v) if k.endswith("_base64") else v
        )
        for k, v in data.items()
    }


class OnnxRecognizer:
    """An exported graph run by ONNX Runtime, called as ``SpeechRecognizer`` is: (waveforms, lengths) ->
    (log-probabilities, output lengths) as torch tensors, so the ``Transcriber`` runs it unchanged."""

    def __init__(self, session: Any, metadata: OnnxMetadata):
        self.session = session
        self.metadata = metadata
        self.sample_rate = metadata.sample_rate
        self.seconds_per_output_frame = metadata.seconds_per_output_frame

    def min_samples(self) -> int:
        """Shortest waveform that yields at least one output frame."""
        return self.metadata.min_samples

    def to(self, device: torch.device | str) -> OnnxRecognizer:
        """Inputs and outputs stay on the CPU; the session's provider chose where the graph runs."""
        return self

    def eval(self) -> OnnxRecognizer:
        return self

    def __call__(self, wav: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        feeds = {
            "waveform": wav.detach().cpu().float().numpy(),
            "lengths": lengths.detach().cpu().to(torch.int64).numpy(),
        }
        log_probs, out_lengths = self.session.run(list(OUTPUTS), feeds)
        return torch.from_numpy(np.ascontiguousarray(log_probs)), torch.from_numpy(out_lengths)


def _session(graph: bytes, threads: int | None, device: str) -> Any:
    """An ONNX Runtime session for the graph's bytes: on CUDA when asked and available, else on the CPU."""
    try:
        import onnxruntime as ort
    except ImportError:
        raise ValueError("ONNX models need onnxruntime: pip install 'asr-bilstm[export]'") from None

    options = ort.SessionOptions()
    # Idle threads sleep instead of spinning, as OMP_WAIT_POLICY=PASSIVE makes PyTorch's (asr.runtime): on a
    # machine shared with other work, spinning threads take the cores the computation needs.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    providers = ["CPUExecutionProvider"]
    if device.startswith("cuda"):
        if "CUDAExecutionProvider" not in ort.get_available_providers():
            raise ValueError(f"device {device}: this onnxruntime has no CUDA provider (install onnxruntime-gpu)")
        providers.insert(0, "CUDAExecutionProvider")
    return ort.InferenceSession(graph, options, providers=providers)


def load_onnx_model(path: str | os.PathLike, threads: int | None = None, device: str = "cpu") -> LoadedModel:
    """An exported ONNX file as a ``LoadedModel`` whose recognizer is an ``OnnxRecognizer``.

    ``threads`` sets ONNX Runtime's intra-op threads (default: its own choice, one per core)."""
    try:
        with open(path, "rb") as f:
            graph = f.read()
    except FileNotFoundError:
        raise ModelFileError(f"{path}: no such model file") from None
    _refuse_external_data(graph, path)
    try:
        session = _session(graph, threads, device)
    except ValueError:
        raise
    except Exception as e:  # onnxruntime raises its own exception types for unparsable graphs
        raise ModelFileError(f"{path}: not a readable ONNX model ({type(e).__name__}: {e})") from e
    metadata = OnnxMetadata.from_props(session.get_modelmeta().custom_metadata_map, path)
    tokenizer: Tokenizer = tokenizer_from_dict(metadata.tokenizer)
    recognizer: Any = OnnxRecognizer(session, metadata)
    return LoadedModel(recognizer, tokenizer, metadata.config, metadata.frame_offset)


def _refuse_external_data(graph: bytes, path: str | os.PathLike) -> None:
    """A graph whose tensors point to external data files would make ONNX Runtime read paths the user did
    not name; ``asr export`` never writes one, so such a file is refused."""
    try:
        import onnx
        from onnx.external_data_helper import uses_external_data
    except ImportError:
        raise ValueError("ONNX models need onnx and onnxruntime: pip install 'asr-bilstm[export]'") from None
    try:
        proto = onnx.ModelProto.FromString(graph)
    except Exception as e:  # protobuf's DecodeError and friends
        raise ModelFileError(f"{path}: not a readable ONNX model ({type(e).__name__}: {e})") from e

    def tensors(g: onnx.GraphProto):
        yield from g.initializer
        for node in g.node:
            for attribute in node.attribute:
                yield from ([attribute.t] if attribute.HasField("t") else [])
                yield from attribute.tensors
                for sub in ([attribute.g] if attribute.HasField("g") else []) + list(attribute.graphs):
                    yield from tensors(sub)

    if any(uses_external_data(t) for t in tensors(proto.graph)):
        raise ModelFileError(f"{path}: the ONNX graph refers to external data files; asr reads self-contained ones")
