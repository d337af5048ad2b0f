"""libespeak-ng through ctypes: text in, 16-bit samples at 22.05 kHz and the start of each word out.

The library and its voice data come from the PyPI package ``espeakng-loader``,
so no system package is needed. Declarations follow espeak-ng's ``speak_lib.h``
(API revision 12). The library keeps one global state that carries from one
utterance to the next (its pitch flutter runs on), so the same request gives
the same audio only at the same place in a process's sequence of requests:
``SynthesisProcess`` runs a fresh one, this module as a script, for each
sequence whose audio must be reproducible. The module imports nothing heavy,
so that process starts quickly.
"""

from __future__ import annotations

import ctypes
import itertools
import json
import os
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import IO, Any

import numpy as np

import asr
from asr.corpora.synth import MissingExtraError

SAMPLE_RATE = 22050

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_EVENT_LIST_TERMINATED, _EVENT_WORD = 0, 1
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_RATE, _PITCH = 1, 3
_EE_OK = 0


class SynthesisError(RuntimeError):
    """libespeak-ng failed to load, initialize or speak."""


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    """``espeak_EVENT``: for a word event, where the word starts in the text (characters, from 1) and the audio (ms)."""

    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


class _Voice(ctypes.Structure):
    """``espeak_VOICE``; ``identifier`` is the voice file under espeak-ng-data/voices (``gmw/en-US``, ``!v/m3``)."""

    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


_SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


class Espeak:
    """libespeak-ng in synchronous mode. ``voices`` and ``variants`` are the names ``synthesize`` takes.

    A voice is a voice file's name in any case (``en-us``, ``en-gb-x-rp``; ``en`` is
    British English), optionally with a variant file's name (``en-us+f3``, ``en+Alex``). The library has one global
    state, so a process uses the one instance ``espeak()`` returns.
    """

    def __init__(self, library: str, data: str):
        try:
            lib = ctypes.CDLL(library)
        except OSError as e:
            raise SynthesisError(f"{library}: cannot load libespeak-ng: {e}") from e
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
        lib.espeak_ListVoices.argtypes = [ctypes.POINTER(_Voice)]
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_Voice))
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
        lib.espeak_Synth.argtypes = [
            *(ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint, ctypes.c_uint),
            *(ctypes.POINTER(ctypes.c_uint), ctypes.c_void_p),
        ]
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data.encode(), _INITIALIZE_DONT_EXIT)
        if rate != SAMPLE_RATE:
            raise SynthesisError(f"{data}: libespeak-ng did not initialize (returned {rate})")
        self._lib = lib
        self._callback = _SynthCallback(self._receive)  # kept referenced: the library calls it
        lib.espeak_SetSynthCallback(self._callback)
        self._chunks: list[np.ndarray] = []
        self._words: list[tuple[int, int]] = []
        # Voices are found whatever their case, variants only as their files are named.
        self.voices = sorted(_file_name(v).lower() for v in self._list(None))
        self.variants = sorted(_file_name(v) for v in self._list(b"variant"))

    def _list(self, language: bytes | None) -> list[_Voice]:
        """Every voice (``language`` None), or those of one language (``b"variant"``: the variants)."""
        name = ctypes.create_string_buffer(language) if language else None
        spec = ctypes.byref(_Voice(languages=ctypes.cast(name, ctypes.c_void_p))) if name else None
        found = self._lib.espeak_ListVoices(spec)
        return [found[i].contents for i in itertools.takewhile(lambda i: found[i], itertools.count())]

    def _receive(self, wav: Any, count: int, events: Any) -> int:
        """The synthesis callback: keep one buffer's samples and word events."""
        if wav and count > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, (count,)).copy())
        for i in itertools.takewhile(lambda i: events[i].type != _EVENT_LIST_TERMINATED, itertools.count()):
            if events[i].type == _EVENT_WORD:
                self._words.append((events[i].text_position, events[i].audio_position))
        return 0  # go on

    def synthesize(
        self, text: str, voice: str, rate: int, pitch: int, seed: int = 0
    ) -> tuple[np.ndarray, list[tuple[int, int]]]:
        """Int16 samples at 22.05 kHz and, per word, (its first character's position from 1, its start in ms).

        ``rate`` is in words per minute (80-450), ``pitch`` 0-100; ``seed`` seeds the
        library's noise (breath, aspiration).
        """
        if self._lib.espeak_SetVoiceByName(voice.encode()) != _EE_OK:
            raise SynthesisError(f"eSpeak NG has no voice {voice!r}")
        self._lib.espeak_SetParameter(_RATE, rate, 0)
        self._lib.espeak_SetParameter(_PITCH, pitch, 0)
        self._lib.espeak_ng_SetRandSeed(seed)
        self._chunks, self._words = [], []
        data = text.encode()
        status = self._lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
        if status != _EE_OK:
            raise SynthesisError(f"eSpeak NG failed (error {status}) on {text!r}")
        samples = np.concatenate(self._chunks) if self._chunks else np.zeros(0, dtype=np.int16)
        return samples, self._words


def _file_name(voice: _Voice) -> str:
    """The name a voice or variant is chosen by: its file's name (``gmw/en-US`` -> ``en-US``)."""
    return voice.identifier.decode().rsplit("/", 1)[-1]


@cache
def espeak() -> Espeak:
    """This process's libespeak-ng, from the ``espeakng-loader`` package (the ``synthetic`` extra)."""
    try:
        import espeakng_loader
    except ImportError as e:
        raise MissingExtraError(
            "eSpeak NG synthesis needs the synthetic extra: pip install 'asr-bilstm[synthetic]'"
        ) from e
    return Espeak(espeakng_loader.get_library_path(), espeakng_loader.get_data_path())


class SynthesisProcess:
    """libespeak-ng in a fresh process of its own, so its audio depends on the requests it was sent alone.

    ``submit`` sends a request and returns at once; ``receive`` returns the results
    in request order, so the process can work ahead while the caller uses earlier
    results. Keep fewer than a few hundred requests outstanding (the pipe's buffer).
    """

    def __init__(self) -> None:
        package_root = str(Path(asr.__file__).resolve().parents[1])  # so the child finds asr even if not installed
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
        command = [sys.executable, "-m", __name__]
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)

    def submit(self, text: str, voice: str, rate: int, pitch: int, seed: int = 0) -> None:
        """Ask for ``Espeak.synthesize(text, voice, rate, pitch, seed)``."""
        request = {"text": text, "voice": voice, "rate": rate, "pitch": pitch, "seed": seed}
        self._process.stdin.write(json.dumps(request).encode() + b"\n")
        self._process.stdin.flush()

    def receive(self) -> tuple[np.ndarray, list[tuple[int, int]]]:
        """The next request's samples and word events; SynthesisError if it failed."""
        header = self._process.stdout.readline()
        if not header:
            raise SynthesisError(f"the eSpeak NG process ended (exit code {self._process.wait()})")
        result = json.loads(header)
        if "error" in result:
            raise SynthesisError(result["error"])
        data = self._process.stdout.read(2 * result["samples"])
        return np.frombuffer(data, dtype="<i2").astype(np.int16), [tuple(event) for event in result["words"]]

    def close(self) -> None:
        """Stop the process, dropping any results not received."""
        self._process.kill()
        self._process.wait()
        self._process.stdin.close()
        self._process.stdout.close()

    def __enter__(self) -> SynthesisProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _serve(requests: IO[bytes], results: IO[bytes]) -> None:
    """Answer JSON-line requests with a JSON header line (sample count and word events, or an error) and samples."""
    for line in requests:
        try:
            samples, words = espeak().synthesize(**json.loads(line))
        except SynthesisError as e:
            results.write(json.dumps({"error": str(e)}).encode() + b"\n")
        else:
            results.write(json.dumps({"samples": len(samples), "words": words}).encode() + b"\n")
            results.write(samples.astype("<i2").tobytes())
        results.flush()


if __name__ == "__main__":
    _serve(sys.stdin.buffer, sys.stdout.buffer)
