"""asr serve: the official OpenAI client gets what asr transcribe prints; bad requests get 4xx JSON and the
server keeps serving; a full queue answers 503 with Retry-After."""

import asyncio
import io
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

httpx = pytest.importorskip("httpx")
openai = pytest.importorskip("openai")
pytest.importorskip("fastapi")

from asr.cli.main import main  # noqa: E402
from asr.serve import BatchQueue, RequestError, ServeSettings  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "tests" / "fixtures" / "tiny_model.pt"
MAX_SECONDS, MAX_BYTES = 1.5, 60_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    """A real `asr serve` process on a free localhost port; its base URL."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "asr.cli.main", "serve", str(TINY), "--port", str(port), "--device", "cpu"]
    command += ["--max-seconds", str(MAX_SECONDS), "--max-bytes", str(MAX_BYTES)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health").status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.2)
            assert process.poll() is None, process.stderr.read().decode()
    else:
        process.kill()
        pytest.fail("the server did not come up in 60 s")
    yield url
    process.terminate()
    process.wait(10)


def wav_bytes(seconds: float, rate: int = 8000) -> bytes:
    out = io.BytesIO()
    sf.write(
        out,
        (0.1 * np.random.default_rng(0).standard_normal(int(seconds * rate))).astype(np.float32),
        rate,
        format="WAV",
        subtype="PCM_16",
    )
    return out.getvalue()


def test_openai_client_gets_what_transcribe_prints(server, fsdd_dir, capsys):
    client = openai.OpenAI(base_url=f"{server}/v1", api_key="unused")
    for name in ("7_lucas_3.wav", "0_george_0.wav"):
        path = fsdd_dir / name
        assert main(["transcribe", str(TINY), str(path), "--device", "cpu"]) == 0
        expected = capsys.readouterr().out.strip()
        with open(path, "rb") as f:
            got = client.audio.transcriptions.create(model="asr", file=f, language="en")
        assert got.text == expected
    with open(fsdd_dir / "7_lucas_3.wav", "rb") as f:
        verbose = client.audio.transcriptions.create(
            model="asr", file=f, response_format="verbose_json", timestamp_granularities=["word"]
        )
    assert verbose.text == " ".join(w.word for w in verbose.words)
    assert all(0 <= w.start <= w.end <= verbose.duration + 0.05 for w in verbose.words)
    with open(fsdd_dir / "7_lucas_3.wav", "rb") as f:
        srt = client.audio.transcriptions.create(model="asr", file=f, response_format="srt")
    assert (srt.startswith("1\n00:00:") and verbose.text in srt) if verbose.text else srt == ""


@pytest.mark.parametrize(
    "files, data, status, code",
    [
        ({"file": ("notes.txt", b"just some text, not audio")}, {}, 400, "not_audio"),
        ({"file": ("empty.wav", b"")}, {}, 400, "empty_file"),
        ({"file": ("long.wav", wav_bytes(2.0))}, {}, 413, "too_long"),
        ({"file": ("big.wav", wav_bytes(5.0))}, {}, 413, "too_large"),
        ({"file": ("a.wav", wav_bytes(0.5))}, {"response_format": "xml"}, 400, None),
        ({"other": ("a.wav", wav_bytes(0.5))}, {}, 400, "missing_file"),
    ],
)
def test_bad_requests_get_json_errors_and_the_server_keeps_serving(server, files, data, status, code):
    answer = httpx.post(f"{server}/v1/audio/transcriptions", files=files, data=data)
    assert answer.status_code == status
    error = answer.json()["error"]
    assert error["code"] == code and error["message"]
    assert (files.get("file") or files["other"])[0] in error["message"] or code in (None, "missing_file", "too_large")
    good = httpx.post(f"{server}/v1/audio/transcriptions", files={"file": ("a.wav", wav_bytes(0.5))})
    assert good.status_code == 200 and "text" in good.json()


def test_not_multipart_is_refused(server):
    answer = httpx.post(f"{server}/v1/audio/transcriptions", content=b"raw", headers={"content-type": "audio/wav"})
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "invalid_body"


def test_a_full_queue_refuses_at_once():
    async def scenario():
        queue = BatchQueue(transcriber=None, settings=ServeSettings(max_queue=1))  # no worker runs
        waiting = asyncio.ensure_future(queue.submit("a.wav", 1.0))
        await asyncio.sleep(0)
        with pytest.raises(RequestError) as refused:
            await queue.submit("b.wav", 1.0)
        waiting.cancel()
        return refused.value

    refused = asyncio.run(scenario())
    assert refused.status == 503 and json.loads(refused.response().body)["error"]["code"] == "busy"
