"""N-gram language models: ARPA files built from text for the beam decoders."""

from asr.lm.ngram import (
    FALLBACK_DISCOUNTS,
    Discounts,
    LMBuildError,
    LMSummary,
    arpa_header_counts,
    build_arpa,
    build_lm,
    estimate_discounts,
    write_arpa,
)

__all__ = [
    "FALLBACK_DISCOUNTS",
    "Discounts",
    "LMBuildError",
    "LMSummary",
    "arpa_header_counts",
    "build_arpa",
    "build_lm",
    "estimate_discounts",
    "write_arpa",
]
