"""Manifests, datasets, batching and the Lightning data module."""
