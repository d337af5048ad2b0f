"""The Python API: ``asr.load(path)`` gives a ``Model`` whose ``transcribe`` takes what a speech engineer has
at hand (a path, a numpy array or torch tensor with its sample rate, or a list of those)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from asr.audio import AudioError, AudioSource
from asr.config import ConfigError, check_decoder
from asr.decoding import Decoder, build_decoder
from asr.inference import Transcriber, open_model, resolve_device
from asr.model_file import LoadedModel
from asr.results import Transcript

AudioInput = Any  # str | os.PathLike | numpy.ndarray | torch.Tensor (numpy is not imported here)


class TranscriptionError(RuntimeError):
    """One audio input given alone could not be transcribed; the message names it and says why."""


def _is_path(item: Any) -> bool:
    return isinstance(item, (str, os.PathLike))


def _is_array(item: Any) -> bool:
    return hasattr(item, "shape") and hasattr(item, "dtype")


class Model:
    """A model file loaded for transcription (``asr.load``).

    Decoder options are keyword arguments of ``transcribe``, checked against the decoder's schema
    (``asr.decoding``): ``decoder="beam", lm="lm.arpa", lm_weight=0.5``; a setting the chosen decoder
    does not take is a ``ConfigError`` that says which decoder takes it.
    """

    def __init__(self, model: LoadedModel, device: str = "auto", **transcriber_options: Any):
        self.transcriber = Transcriber(model, device=device, **transcriber_options)
        self.saved_decoder: dict[str, Any] = dict(model.config.get("decoder") or {"type": "greedy"})
        self._decoders: dict[str, Decoder] = {repr(check_decoder(self.saved_decoder)): self.transcriber.decoder}

    @classmethod
    def load(
        cls, path: str | os.PathLike, device: str = "auto", runtime: str = "auto", **transcriber_options: Any
    ) -> Model:
        """Load a model file (``ModelFileError`` if it is not one) onto ``device`` (auto, cpu, cuda, cuda:1);
        an exported ``.onnx`` file (or ``runtime="onnx"``) runs on ONNX Runtime."""
        return cls(open_model(path, runtime, str(resolve_device(device))), device, **transcriber_options)

    @property
    def sample_rate(self) -> int:
        """The rate the model hears; other rates are resampled."""
        return self.transcriber.sample_rate

    @property
    def device(self) -> Any:
        return self.transcriber.device

    def decoder(self, decoder: str | None = None, **options: Any) -> Decoder:
        """The decoder for these options (built once per distinct setting): the model's saved decoder, or the
        ``decoder`` type named, with ``options`` on top."""
        values = {"type": decoder} if decoder else dict(self.saved_decoder)
        config = check_decoder({**values, **options})
        key = repr(config)
        if key not in self._decoders:
            self._decoders[key] = build_decoder(config, self.transcriber.model.tokenizer)
        return self._decoders[key]

    def transcribe(
        self,
        audio: AudioInput | Sequence[AudioInput],
        *,
        sample_rate: int | None = None,
        decoder: str | None = None,
        **decoder_options: Any,
    ) -> Transcript | list[Transcript]:
        """Transcribe one input, or a list of inputs (then one result each, in order).

        An input is a path (str or ``Path``), or a numpy array / torch tensor of samples, 1-D or
        (channels, samples), with its ``sample_rate``. A result has ``text`` and ``words`` (each with
        ``word``, ``start``, ``end`` in seconds and ``confidence``). One input that cannot be transcribed
        raises ``TranscriptionError``; in a list it comes back with ``error`` set and the others still run.
        """
        single = _is_path(audio) or _is_array(audio)
        items = [audio] if single else audio
        if not isinstance(items, (list, tuple)):
            raise TypeError(f"audio: expected a path, an array, or a list of them; got {type(audio).__name__}")
        if sample_rate is not None and not any(_is_array(item) for item in items):
            raise ConfigError("sample_rate= is for arrays; a file's own rate is read from it")
        chosen = self.decoder(decoder, **decoder_options)
        entries: list[AudioSource | Transcript] = []  # a source to transcribe, or an input already failed
        for index, item in enumerate(items):
            name = "<array>" if single else f"<array {index}>"
            try:
                entries.append(self._source(item, sample_rate, name))
            except AudioError as e:
                if single:
                    raise TranscriptionError(str(e)) from None
                entries.append(Transcript(AudioSource(name), error=str(e)))
        done = self.transcriber.transcribe([e for e in entries if isinstance(e, AudioSource)], decoder=chosen)
        results = [next(done) if isinstance(e, AudioSource) else e for e in entries]
        if single and results[0].error:
            raise TranscriptionError(results[0].error)
        return results[0] if single else results

    def _source(self, item: Any, sample_rate: int | None, name: str) -> AudioSource:
        if _is_path(item):
            return AudioSource(os.fspath(item))
        if _is_array(item):
            if sample_rate is None:
                raise AudioError(f"{name}: an array needs sample_rate= (its samples per second)")
            return AudioSource.from_array(item, sample_rate, name)
        raise AudioError(f"{name}: expected a path or an array of samples, got {type(item).__name__}")
