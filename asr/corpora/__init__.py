"""Corpus preparation: one module per corpus, turning its native layout into manifests."""
