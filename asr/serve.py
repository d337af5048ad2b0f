"""The HTTP server: OpenAI-compatible ``POST /v1/audio/transcriptions`` on FastAPI, requests batched by duration.

Uploads are parsed as they stream in (python-multipart), and a file past ``max_bytes``
is refused before the rest is read. Each accepted file waits in a bounded queue; one
worker takes what is queued (up to ``max_batch_seconds`` of audio) and transcribes it
as one batch in a thread, so concurrent requests share forward passes. A full queue
answers 503 with ``Retry-After``: the backlog never grows without bound. Errors are
JSON in OpenAI's shape (``{"error": {"message", "type", "param", "code"}}``) and never
stop the server. ``GET /health`` answers 200 only once the model is loaded.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import tempfile
from collections.abc import Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from python_multipart.multipart import MultipartParser, parse_options_header

from asr.writers import cues, write_srt, write_vtt

log = logging.getLogger(__name__)

FORMATS = ("json", "text", "srt", "vtt", "verbose_json")
GRANULARITIES = ("word", "segment")


@dataclass(frozen=True)
class ServeSettings:
    """Limits and batching of the server."""

    max_bytes: int = 25 * 1024 * 1024  # OpenAI's own upload limit
    max_seconds: float = 600.0
    max_queue: int = 64  # requests waiting for the model; more answer 503
    max_batch_seconds: float = 120.0  # audio seconds the worker takes into one batch
    batch_wait_seconds: float = 0.01  # how long the worker lets concurrent requests join a batch
    retry_after_seconds: int = 1


class RequestError(Exception):
    """A request the server refuses: its HTTP status and a message naming the problem."""

    def __init__(self, status: int, message: str, param: str | None = None, code: str | None = None):
        super().__init__(message)
        self.status, self.message, self.param, self.code = status, message, param, code

    def response(self, headers: dict[str, str] | None = None) -> JSONResponse:
        kind = "server_busy" if self.status == 503 else "invalid_request_error"
        body = {"error": {"message": self.message, "type": kind, "param": self.param, "code": self.code}}
        return JSONResponse(body, status_code=self.status, headers=headers)


@dataclass
class Upload:
    """A parsed request: the audio in a temporary file and the form fields."""

    path: str | None = None
    size: int = 0
    fields: dict[str, list[str]] = field(default_factory=dict)

    def value(self, name: str, default: str) -> str:
        return (self.fields.get(name) or [default])[-1]

    def discard(self) -> None:
        """Delete the temporary file."""
        if self.path:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)


@dataclass
class _Job:
    path: str
    seconds: float
    done: asyncio.Future


class _Form:
    """python-multipart callbacks: each part's headers and data; the first ``file`` part's bytes go to
    ``sink``, the other fields into memory (each at most ``MAX_FIELD_BYTES``), other file parts nowhere."""

    MAX_FIELD_BYTES = 4096

    def __init__(self, upload: Upload, sink: io.BufferedWriter, max_bytes: int):
        self.upload, self.sink, self.max_bytes = upload, sink, max_bytes
        self.header_name, self.header_value = b"", b""
        self.name: str | None = None
        self.filename = ""
        self.is_file = False
        self.value = bytearray()

    def callbacks(self) -> dict[str, Callable[..., None]]:
        return {
            "on_part_begin": self.part_begin,
            "on_header_field": lambda data, start, end: self._add("header_name", data[start:end]),
            "on_header_value": lambda data, start, end: self._add("header_value", data[start:end]),
            "on_header_end": self.header_end,
            "on_part_data": self.part_data,
            "on_part_end": self.part_end,
        }

    def _add(self, attribute: str, data: bytes) -> None:
        setattr(self, attribute, getattr(self, attribute) + data)

    def part_begin(self) -> None:
        self.name, self.filename, self.is_file, self.value = None, "", False, bytearray()

    def header_end(self) -> None:
        if self.header_name.lower() == b"content-disposition":
            _, options = parse_options_header(self.header_value)
            self.name = options.get(b"name", b"").decode("utf-8", "replace")
            self.filename = options.get(b"filename", b"").decode("utf-8", "replace")
            self.is_file = self.name == "file" and "file" not in self.upload.fields
        self.header_name, self.header_value = b"", b""

    def part_data(self, data: bytes, start: int, end: int) -> None:
        if self.filename and not self.is_file:  # another file part, or a second 'file': not read
            return
        if self.is_file:
            self.upload.size += end - start
            if self.upload.size > self.max_bytes:
                message = f"the file is larger than the limit of {self.max_bytes} bytes"
                raise RequestError(413, message, "file", "too_large")
            self.sink.write(data[start:end])
        elif len(self.value) + end - start > self.MAX_FIELD_BYTES:
            message = f"form field {self.name!r} is longer than {self.MAX_FIELD_BYTES} bytes"
            raise RequestError(400, message, self.name, "field_too_long")
        else:
            self.value += data[start:end]

    def part_end(self) -> None:
        if self.is_file:
            self.upload.fields.setdefault("file", []).append(self.filename)
        elif self.name and not self.filename:
            self.upload.fields.setdefault(self.name, []).append(self.value.decode("utf-8", "replace"))


async def read_upload(request: Request, max_bytes: int, directory: str) -> Upload:
    """Stream a multipart body: form fields into memory, the ``file`` part into a temporary file in
    ``directory``. Past ``max_bytes`` of file a 413 is raised before reading on."""
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data" or b"boundary" not in options:
        raise RequestError(400, "expected a multipart/form-data body with a 'file' part", code="invalid_body")
    upload = Upload()
    with tempfile.NamedTemporaryFile(dir=directory, suffix=".audio", delete=False) as sink:
        upload.path = sink.name
        try:
            parser = MultipartParser(options[b"boundary"], _Form(upload, sink, max_bytes).callbacks())
            async for chunk in request.stream():
                parser.write(chunk)
            parser.finalize()
        except RequestError:
            upload.discard()
            raise
        except Exception as e:  # python-multipart's errors for a malformed body
            upload.discard()
            raise RequestError(400, f"unreadable multipart body: {e}", code="invalid_body") from e
    if "file" not in upload.fields:
        upload.discard()
        raise RequestError(400, "no 'file' part in the form", "file", "missing_file")
    return upload


class BatchQueue:
    """A bounded queue of uploaded files and the one worker that transcribes what is queued as a batch."""

    def __init__(self, transcriber: Any, settings: ServeSettings):
        self.transcriber = transcriber
        self.settings = settings
        self.queue: asyncio.Queue[_Job] = asyncio.Queue(settings.max_queue)

    async def submit(self, path: str, seconds: float) -> Any:
        """The file's ``Transcript``; a full queue raises a 503 ``RequestError`` at once."""
        job = _Job(path, seconds, asyncio.get_running_loop().create_future())
        try:
            self.queue.put_nowait(job)
        except asyncio.QueueFull:
            raise RequestError(503, "the server is busy: too many requests waiting; retry later", code="busy") from None
        return await job.done

    async def run(self) -> None:
        """Forever: wait for a file, let concurrent ones join (up to ``max_batch_seconds``), transcribe them."""
        while True:
            jobs = [await self.queue.get()]
            await asyncio.sleep(self.settings.batch_wait_seconds)
            seconds = jobs[0].seconds
            while not self.queue.empty() and seconds < self.settings.max_batch_seconds:
                jobs.append(self.queue.get_nowait())
                seconds += jobs[-1].seconds
            try:
                results = await asyncio.to_thread(self._transcribe, [job.path for job in jobs])
            except Exception as e:  # the model failed on this batch: its requests get the error, others go on
                log.exception("transcription failed")
                results = [e] * len(jobs)
            for job, result in zip(jobs, results):
                if not job.done.done():
                    (job.done.set_exception if isinstance(result, Exception) else job.done.set_result)(result)

    def _transcribe(self, paths: list[str]) -> list[Any]:
        from asr.audio import AudioSource

        return list(self.transcriber.transcribe([AudioSource(path) for path in paths]))


def render(result: Any, response_format: str, granularities: list[str], language: str) -> Response:
    """A transcript in one of OpenAI's response formats."""
    if response_format == "json":
        return JSONResponse({"text": result.text})
    if response_format == "text":
        return PlainTextResponse(result.text)
    if response_format in ("srt", "vtt"):
        out = io.StringIO()
        (write_srt if response_format == "srt" else write_vtt)(result, out)
        return PlainTextResponse(out.getvalue())
    segments = [
        {
            "id": i,
            "seek": 0,
            "start": round(cue[0].start, 3),
            "end": round(cue[-1].end, 3),
            "text": " ".join(w.word for w in cue),
            "tokens": [],
            "temperature": 0.0,
        }
        for i, cue in enumerate(cues(result.words))
    ]
    body: dict[str, Any] = {
        "task": "transcribe",
        "language": language,
        "duration": round(result.duration, 3),
        "text": result.text,
        "segments": segments,
    }
    if "word" in granularities:
        body["words"] = [
            {"word": w.word, "start": round(w.start, 3), "end": round(w.end, 3), "confidence": round(w.confidence, 4)}
            for w in result.words
        ]
    return JSONResponse(body)


def create_app(load: Callable[[], Any], settings: ServeSettings = ServeSettings()) -> FastAPI:
    """The application; ``load()`` returns the ``Transcriber``. It runs at startup, before the server
    accepts connections, so every answer (``/health`` included) comes from a loaded model."""
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        transcriber = await asyncio.to_thread(load)
        state["batches"] = BatchQueue(transcriber, settings)
        state["model"] = getattr(transcriber, "model_name", "asr")
        worker = asyncio.create_task(state["batches"].run())
        with tempfile.TemporaryDirectory(prefix="asr-serve-") as directory:
            state["tmp"] = directory
            yield
        worker.cancel()

    app = FastAPI(title="asr", lifespan=lifespan)

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "model": state["model"], "queued": state["batches"].queue.qsize()}

    @app.post("/v1/audio/transcriptions")
    async def transcriptions(request: Request) -> Response:
        try:
            upload = await read_upload(request, settings.max_bytes, state["tmp"])
            try:
                return await _transcription(upload, state["batches"], settings)
            finally:
                upload.discard()
        except RequestError as e:
            headers = {"Retry-After": str(settings.retry_after_seconds)} if e.status == 503 else None
            return e.response(headers)

    return app


async def _transcription(upload: Upload, batches: BatchQueue, settings: ServeSettings) -> Response:
    from asr.audio import AudioError, AudioSource

    response_format = upload.value("response_format", "json")
    if response_format not in FORMATS:
        raise RequestError(
            400, f"response_format {response_format!r}: expected one of {', '.join(FORMATS)}", "response_format"
        )
    fields = upload.fields
    granularities = fields.get("timestamp_granularities[]", []) + fields.get("timestamp_granularities", [])
    unknown = [g for g in granularities if g not in GRANULARITIES]
    if unknown:
        message = f"timestamp_granularities {unknown}: expected word or segment"
        raise RequestError(400, message, "timestamp_granularities")
    name = upload.value("file", "") or "the file"
    if upload.size == 0:
        raise RequestError(400, f"{name}: the uploaded file is empty", "file", "empty_file")
    try:
        seconds = await asyncio.to_thread(AudioSource(upload.path).seconds)
    except AudioError:
        raise RequestError(400, f"{name}: not an audio file this server can read", "file", "not_audio") from None
    if seconds <= 0:
        raise RequestError(400, f"{name}: the audio is empty (0 samples)", "file", "empty_audio")
    if seconds > settings.max_seconds:
        raise RequestError(
            413,
            f"{name}: {seconds:.1f} s of audio, longer than the limit of {settings.max_seconds:g} s",
            "file",
            "too_long",
        )
    result = await batches.submit(upload.path, seconds)
    if result.error:
        raise RequestError(400, f"{name}: {result.error.replace(upload.path, 'the upload')}", "file", "not_audio")
    return render(result, response_format, granularities, upload.value("language", "en"))
