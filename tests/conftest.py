"""Shared test set-up: no network, a private cache, and compiled objects shared across tests."""

import os

# Tests must never reach a real TFDS download; offline it hangs for minutes in DNS retries.
os.environ.setdefault("TFDS_DATA_DIR", "/nonexistent-tfds-data-dir")
os.environ.setdefault("NO_GCE_CHECK", "true")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
