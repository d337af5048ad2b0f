"""``asr train [RECIPE] [key=value ...]``: a Hydra-composed training run.

RECIPE is a recipe folder (its ``config.yaml``) or a YAML file whose defaults list
composes the groups in ``conf/``; without it, ``conf/train.yaml`` is used. Every
other argument is a Hydra override or flag (``trainer.devices=2``, ``-m``, ``--cfg job``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from asr.config import CONF_DIR


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="train")
def _run(cfg: DictConfig) -> None:
    from asr.train import train

    train(OmegaConf.to_container(cfg, resolve=True), HydraConfig.get().runtime.output_dir)


def hydra_argv(args: list[str]) -> list[str]:
    """Turn ``[RECIPE] overrides...`` into Hydra's own command line."""
    if args and "=" not in args[0] and not args[0].startswith("-"):
        recipe = Path(args[0])
        recipe = recipe / "config.yaml" if recipe.is_dir() else recipe
        if not recipe.is_file():
            raise SystemExit(f"error: recipe {args[0]}: no such folder or YAML file")
        return ["--config-dir", str(recipe.resolve().parent), "--config-name", recipe.stem, *args[1:]]
    return args


def main(args: list[str]) -> int:
    if not CONF_DIR.is_dir():
        raise SystemExit(
            f"error: config folder {CONF_DIR} not found; reinstall the package (pip install asr-bilstm)"
        )
    # Hydra reads sys.argv. Lightning's DDP launcher starts the other ranks by re-running
    # sys.argv, so argv[0] must be a script that runs this entry point: this very file.
    sys.argv = [__file__, *hydra_argv(args)]
    _run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
