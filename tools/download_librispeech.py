#!/usr/bin/env python
"""Fetch LibriSpeech subsets from openslr.org into OUT_DIR/LibriSpeech.

Online: downloads each subset's archive (resumable: a ``.part`` file is
continued with an HTTP Range request), checks its published MD5, extracts it
and deletes it unless ``--keep-archives``. Offline: ``--archive-dir DIR`` takes
the already-downloaded ``<subset>.tar.gz`` archives from DIR instead (checked,
never deleted). A subset extracted by an earlier run is skipped. A subset that
fails is named and the others still run; the exit status is then 1.

    python tools/download_librispeech.py dev-clean test-clean --out-dir data/librispeech
    python tools/download_librispeech.py train-clean-100 --out-dir data/librispeech --archive-dir /mnt/openslr12
    asr prepare librispeech --root data/librispeech/LibriSpeech --out-dir data/librispeech
"""

from __future__ import annotations

import argparse
import sys
import tarfile
from pathlib import Path

from _download import check_md5, download
from tqdm import tqdm

BASE_URL = "https://www.openslr.org/resources/12"
# The published sums, https://www.openslr.org/resources/12/md5sum.txt
MD5 = {
    "train-clean-100": "2a93770f6d5c6c964bc36631d331a522",
    "train-clean-360": "c0e676e450a7ff2f54aeade5171606fa",
    "train-other-500": "d1a0fd59409feb2c614ce4d30c387708",
    "dev-clean": "42e2234ba48799c1f50f24a7926300a1",
    "dev-other": "c8d0bcc9cca99d4f8b62fcc847357931",
    "test-clean": "32fa31d27d2e1cad72775fee3f4849a9",
    "test-other": "fb5a50374b501bb3bac4815ee91d3135",
}
# Refuse members that would land outside the output folder, where tarfile can (Python >= 3.11.4, 3.10.12).
_SAFE = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}


def extract(archive: Path, out_dir: Path) -> None:
    """Unpack a .tar.gz archive into ``out_dir``, showing progress."""
    with tarfile.open(archive) as tar:
        members = tqdm(tar, desc=f"extracting {archive.name}", unit="file", disable=None)
        tar.extractall(out_dir, members=members, **_SAFE)


def fetch(subset: str, out_dir: Path, archive_dir: Path | None, base_url: str, keep_archive: bool) -> None:
    """Download (or take from ``archive_dir``), check and extract one subset unless an earlier run did."""
    done = out_dir / "LibriSpeech" / f".{subset}.extracted"
    if done.exists():
        print(f"{subset}: already extracted in {done.parent}, nothing to do")
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    if archive_dir is not None:
        archive = archive_dir / f"{subset}.tar.gz"
        check_md5(archive, MD5[subset])
    else:
        archive = out_dir / f"{subset}.tar.gz"
        if not archive.exists():  # only a checked download gets this name
            print(f"downloading {base_url}/{subset}.tar.gz")
            download(f"{base_url}/{subset}.tar.gz", archive, MD5[subset])
    extract(archive, out_dir)
    done.touch()
    print(f"{subset}: extracted to {done.parent / subset}")
    if archive_dir is None and not keep_archive:
        archive.unlink()


def main(argv: list[str] | None = None) -> int:
    """Fetch each chosen subset; return 1 if any failed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("subsets", nargs="+", choices=list(MD5), metavar="SUBSET", help=", ".join(MD5))
    parser.add_argument("--out-dir", type=Path, required=True, help="the corpus goes to OUT_DIR/LibriSpeech")
    parser.add_argument("--archive-dir", type=Path, help="take the <subset>.tar.gz archives from here (offline)")
    parser.add_argument("--base-url", default=BASE_URL, help="where <subset>.tar.gz is downloaded from (a mirror)")
    parser.add_argument("--keep-archives", action="store_true", help="keep downloaded archives after extracting")
    args = parser.parse_args(argv)
    failed = []
    for subset in dict.fromkeys(args.subsets):
        try:
            fetch(subset, args.out_dir, args.archive_dir, args.base_url, args.keep_archives)
        except (OSError, tarfile.TarError) as e:  # urllib and checksum errors are OSErrors
            print(f"error: {subset}: {e}", file=sys.stderr)
            failed.append(subset)
    if failed:
        print(f"error: failed: {', '.join(failed)}; run again to retry (downloads resume)", file=sys.stderr)
        return 1
    print(f"next: asr prepare librispeech --root {args.out_dir / 'LibriSpeech'} --out-dir {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
