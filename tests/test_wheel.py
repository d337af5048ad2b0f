"""The built wheel, installed without -e into a new virtual environment, works from a folder outside the checkout.

The heavy dependencies are not installed again: the new environment reads this test run's
site-packages after its own, where the wheel's `asr` comes first.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TINY_MODEL = REPO / "tests" / "fixtures" / "tiny_model.pt"
CLEAN_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # a PYTHONPATH would bring in the checkout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from this checkout."""
    root = tmp_path_factory.mktemp("wheel")
    build = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", root, REPO]
    subprocess.run(build, check=True, cwd=root)
    (path,) = root.glob("asr_bilstm-*.whl")
    return path


@pytest.fixture(scope="module")
def wheel_env(wheel: Path) -> Path:
    """A new venv holding the freshly built wheel, with this run's site-packages behind its own."""
    root = wheel.parent
    env = root / "venv"
    venv.EnvBuilder(with_pip=False).create(env)
    python = env / "bin" / "python"
    install = [sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps", "--no-index", wheel]
    subprocess.run(install, check=True, cwd=root, env=CLEAN_ENV)
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], capture_output=True, text=True
    ).stdout.strip()
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(site) / "parent_site.pth").write_text("\n".join(sorted(ours)) + "\n")
    return env


def _run(env: Path, *args: str | Path, cwd: Path, program: str = "asr") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [env / "bin" / program, *map(str, args)], capture_output=True, text=True, cwd=cwd, env=CLEAN_ENV, timeout=300
    )


def test_wheel_ships_every_package_and_config_group(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    packages = {p.relative_to(REPO).as_posix() for p in (REPO / "asr").rglob("__init__.py")}
    assert packages <= names, f"packages missing from [tool.setuptools] packages: {sorted(packages - names)}"
    groups = {"asr/" + p.relative_to(REPO).as_posix() for p in (REPO / "conf").rglob("*.yaml")}
    assert groups and groups <= names, sorted(groups - names)


def test_installed_wheel_composes_recipes_and_decodes_with_beam(
    wheel_env: Path, tmp_path: Path, fsdd_dir: Path
) -> None:
    where = _run(wheel_env, "-c", "import asr; print(asr.__file__)", cwd=tmp_path, program="python")
    assert where.stdout.startswith(str(wheel_env)), where  # the wheel's package, not the checkout
    recipe = tmp_path / "elsewhere" / "my_recipe.yaml"
    recipe.parent.mkdir()
    recipe.write_text("defaults:\n  - train\n  - _self_\nmodel:\n  hidden_size: 24\n")
    job = _run(wheel_env, "train", recipe, "--cfg", "job", cwd=tmp_path)
    assert job.returncode == 0, job.stderr
    assert "hidden_size: 24" in job.stdout and "n_mels: 80" in job.stdout  # the recipe over conf/ groups
    wav = sorted(fsdd_dir.glob("3_*.wav"))[0]
    beam = _run(wheel_env, "transcribe", TINY_MODEL, wav, "decoder=beam", "decoder.beam_size=4", cwd=tmp_path)
    if importlib.util.find_spec("flashlight"):
        assert beam.returncode == 0, beam.stderr
    else:  # Python 3.13: no flashlight-text wheels
        assert beam.returncode == 2 and "decoder=beam needs the flashlight-text package" in beam.stderr
    greedy = _run(wheel_env, "transcribe", TINY_MODEL, wav, cwd=tmp_path)
    assert greedy.returncode == 0, greedy.stderr
    missing = _run(wheel_env, "transcribe", TINY_MODEL, wav, "decoder=nosuch", cwd=tmp_path)
    assert missing.returncode == 2 and "available: beam, greedy" in missing.stderr
