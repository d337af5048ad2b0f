"""Where the Hydra config groups live, and resolving decoder settings given on a command line."""

from __future__ import annotations

from pathlib import Path

from omegaconf import OmegaConf


def _conf_dir() -> Path:
    """The Hydra config groups: ``asr/conf`` in an installed wheel, ``conf/`` beside the package in a checkout."""
    package = Path(__file__).resolve().parent
    installed = package / "conf"
    return installed if installed.is_dir() else package.parent / "conf"


CONF_DIR = _conf_dir()


def is_decoder_override(arg: str) -> bool:
    """``decoder=NAME`` or ``decoder.KEY=VALUE``, as Hydra writes them."""
    key = arg.partition("=")[0]
    return "=" in arg and (key == "decoder" or key.startswith("decoder."))


def decoder_config(saved: dict, overrides: list[str]) -> dict:
    """The model's saved decoder settings, or the ``conf/decoder/NAME.yaml`` group that ``decoder=NAME`` names,
    with ``decoder.KEY=VALUE`` overrides applied on top."""
    config = OmegaConf.create(saved)
    keys = []
    for arg in overrides:
        if not is_decoder_override(arg):
            raise ValueError(f"{arg!r}: expected decoder=NAME or decoder.KEY=VALUE")
        key, _, value = arg.partition("=")
        if key == "decoder":
            group = CONF_DIR / "decoder" / f"{value}.yaml"
            if not group.is_file():
                names = sorted(p.stem for p in (CONF_DIR / "decoder").glob("*.yaml"))
                raise ValueError(f"decoder={value}: no such decoder (available: {', '.join(names)})")
            config = OmegaConf.load(group)
        else:
            keys.append(arg[len("decoder.") :])
    return OmegaConf.to_container(OmegaConf.merge(config, OmegaConf.from_dotlist(keys)), resolve=True)
