"""The ``asr`` command: subcommands wire library pieces together and hold no logic of their own."""
