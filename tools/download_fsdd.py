#!/usr/bin/env python
"""Fetch the Free Spoken Digit Dataset recordings into OUT_DIR/recordings.

Online: downloads the public GitHub archive (resumable: a ``.part`` file is
continued with an HTTP Range request) and extracts its ``recordings/`` folder;
nothing is downloaded when the recordings are already there. Offline:
``--from-folder DIR`` copies an existing local recordings folder instead.
Either way every WAV is checked with soundfile; the exit status is 1 and the
bad files are named when any fails.

    python tools/download_fsdd.py --out-dir data/fsdd
    python tools/download_fsdd.py --out-dir data/fsdd --from-folder /mnt/fsdd/recordings
"""

from __future__ import annotations

import argparse
import shutil
import sys
import zipfile
from pathlib import Path

import soundfile as sf
from _download import CHUNK, download

URL = "https://github.com/Jakobovski/free-spoken-digit-dataset/archive/refs/heads/master.zip"


def extract_recordings(archive: Path, dest: Path) -> int:
    """Extract the archive's ``recordings/*.wav`` flat into ``dest``; return how many."""
    dest.mkdir(parents=True, exist_ok=True)
    count = 0
    with zipfile.ZipFile(archive) as zf:
        for member in zf.infolist():
            parts = Path(member.filename).parts
            if len(parts) >= 2 and parts[-2] == "recordings" and parts[-1].endswith(".wav"):
                with zf.open(member) as src, (dest / parts[-1]).open("wb") as out:
                    shutil.copyfileobj(src, out, CHUNK)
                count += 1
    return count


def copy_recordings(source: Path, dest: Path) -> None:
    """Copy the WAVs of a local recordings folder into ``dest`` (nothing to do if it is ``dest``)."""
    if not source.is_dir():
        raise SystemExit(f"error: {source}: not a folder")
    dest.mkdir(parents=True, exist_ok=True)
    if source.resolve() == dest.resolve():
        return
    for path in sorted(source.glob("*.wav")):
        shutil.copy2(path, dest / path.name)


def validate(folder: Path) -> list[str]:
    """Names of the WAVs in ``folder`` that soundfile cannot read or that hold no samples."""
    bad = []
    for path in sorted(folder.glob("*.wav")):
        try:
            if sf.info(path).frames == 0:
                bad.append(f"{path.name} (no samples)")
        except (sf.LibsndfileError, RuntimeError) as e:
            bad.append(f"{path.name} ({e})")
    return bad


def fetch(out_dir: Path, url: str) -> None:
    """Download and extract the recordings unless they are already in ``out_dir``."""
    recordings = out_dir / "recordings"
    if recordings.is_dir() and any(recordings.glob("*.wav")):
        print(f"{recordings}: recordings already there, nothing downloaded")
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    archive = out_dir / "free-spoken-digit-dataset.zip"
    if not archive.exists():
        print(f"downloading {url}")
        download(url, archive)
    print(f"extracted {extract_recordings(archive, recordings)} recordings to {recordings}")
    archive.unlink()


def main(argv: list[str] | None = None) -> int:
    """Fetch or copy the recordings, validate them, and return 1 if any is bad."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, required=True, help="recordings go to OUT_DIR/recordings")
    parser.add_argument("--from-folder", type=Path, help="copy this local recordings folder instead of downloading")
    parser.add_argument("--url", default=URL, help="archive to download")
    args = parser.parse_args(argv)
    recordings = args.out_dir / "recordings"
    if args.from_folder:
        copy_recordings(args.from_folder, recordings)
    else:
        try:
            fetch(args.out_dir, args.url)
        except (OSError, zipfile.BadZipFile) as e:  # urllib errors are OSErrors
            print(f"error: fetching FSDD failed ({e}); run again to resume", file=sys.stderr)
            return 1
    bad = validate(recordings)
    count = len(list(recordings.glob("*.wav")))
    print(f"{recordings}: {count - len(bad)} good recordings of {count}")
    if bad or not count:
        print("error: bad recordings: " + ("; ".join(bad) if bad else "none found"), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
