"""asr: a BiLSTM-CTC speech recognition pipeline."""

__version__ = "0.1.0"
