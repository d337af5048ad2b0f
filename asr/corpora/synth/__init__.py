"""Corpora this project makes by speech synthesis, for its recipes, apart from the importers of recorded speech.

eSpeak NG reads public-domain prose (``espeak_corpus``, from ``sentences`` and the
``espeak`` binding; the ``synthetic`` extra), and Flite voices say the digits as
extra speakers for the digits recipe (``flite_digits``, from ``flite``).
"""


class MissingExtraError(ImportError):
    """A package of the ``synthetic`` extra is not installed; the message names the extra."""
