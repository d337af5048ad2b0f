"""asr: a BiLSTM-CTC speech recognition pipeline."""

from asr.runtime import configure_threads

__version__ = "0.1.0"

configure_threads()
