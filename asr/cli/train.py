"""``asr train [RECIPE] [key=value ...]``: a Hydra-composed training run.

RECIPE is a recipe folder (its ``config.yaml``) or a YAML file whose defaults list
composes the groups in ``conf/``; without it, ``conf/train.yaml`` is used. Every
other argument is a Hydra override or flag (``trainer.devices=2``, ``-m``, ``--cfg job``).

The config is composed and checked against its schema (``asr.schema``) before Hydra
starts the run: a config mistake, a missing manifest or an output folder that cannot
be written is one line on stderr and exit code 2, before any data is read.
"""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from asr.cli.paths import unwritable
from asr.config import CONF_DIR, ConfigError

# Hydra flags after which no run starts: help, info, shell completion.
_NO_RUN = ("help", "hydra_help", "info", "shell_completion")


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="train")
def _run(cfg: DictConfig) -> None:
    from lightning.fabric.utilities.exceptions import MisconfigurationException

    from asr.data.manifest import ManifestError
    from asr.run_folder import RunFolderError
    from asr.text import TokenizerError
    from asr.train import train

    try:
        train(OmegaConf.to_container(cfg, resolve=True), HydraConfig.get().runtime.output_dir)
    except (ConfigError, ManifestError, RunFolderError, TokenizerError, MisconfigurationException) as e:
        print(f"error: {str(e).strip().splitlines()[0]}", file=sys.stderr)
        raise SystemExit(2) from None


def check(hydra_args: list[str]) -> str | None:
    """What is wrong with the run ``hydra_args`` asks for, in one line, or None: its config (schema),
    its manifests (they exist) and its output folder (writable, and holding no other run unless resuming
    or overwriting: checked here, before Hydra writes its own files there). Sweeps (``-m``) are checked by
    Hydra and each job's ``train``; ``--cfg`` (print the config) only needs a config that composes."""
    from hydra._internal.utils import get_args_parser

    from asr.run_folder import RunFolderError, check_output_dir, is_first_process
    from asr.schema import composed, train_config

    args = get_args_parser().parse_args(hydra_args)
    if args.multirun or any(getattr(args, flag) for flag in _NO_RUN):
        return None
    try:
        config = composed(args.config_dir or CONF_DIR, args.config_name or "train", args.overrides)
        if args.cfg:  # only printing the config: values may still be missing
            return None
        config = train_config(config)
    except ConfigError as e:
        return str(e)
    data = config.data
    for key in ("train_manifest", "val_manifest"):
        paths = getattr(data, key)
        for path in paths if isinstance(paths, list) else [paths] if paths else []:
            if not Path(path).is_file():
                return f"data.{key}: no such manifest {path} (prepare the corpus first: see the recipe's README)"
    accelerator = str(config.trainer.get("accelerator", "auto"))
    if accelerator in ("gpu", "cuda") and not _has_cuda():
        return f"trainer.accelerator={accelerator}: this machine has no CUDA GPU (use trainer.accelerator=cpu or auto)"
    problem = unwritable(config.output_dir, folder=True)
    if problem:
        return f"output_dir={problem}"
    try:
        if is_first_process():  # the other ranks start once the first has begun writing there
            check_output_dir(config.output_dir, config.resume, config.overwrite)
    except RunFolderError as e:
        return str(e)
    return None


def hydra_argv(args: list[str]) -> list[str]:
    """Turn ``[RECIPE] overrides...`` into Hydra's own command line."""
    if args and "=" not in args[0] and not args[0].startswith("-"):
        recipe = Path(args[0])
        recipe = recipe / "config.yaml" if recipe.is_dir() else recipe
        if not recipe.is_file():
            raise ConfigError(f"recipe {args[0]}: no such folder or YAML file (recipes: {_recipes()})")
        return ["--config-dir", str(recipe.resolve().parent), "--config-name", recipe.stem, *args[1:]]
    return args


def _has_cuda() -> bool:
    import torch  # already loaded by the schemas

    return torch.cuda.is_available()


def _recipes() -> str:
    """The recipe folders shipped in a checkout, for error messages."""
    folder = CONF_DIR.parent / "recipes"
    names = sorted(p.parent.name for p in folder.glob("*/config.yaml"))
    return ", ".join(f"recipes/{name}" for name in names) or "none found"


def main(args: list[str]) -> int:
    if not CONF_DIR.is_dir():
        raise SystemExit(f"error: config folder {CONF_DIR} not found; reinstall the package (pip install asr-bilstm)")
    from asr.schema import register

    try:
        hydra_args = hydra_argv(args)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    problem = check(hydra_args)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    register()
    # Hydra reads sys.argv. Lightning's DDP launcher starts the other ranks by re-running
    # sys.argv, so argv[0] must be a script that runs this entry point: this very file.
    sys.argv = [__file__, *hydra_args]
    _run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
