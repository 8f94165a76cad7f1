"""Documents's contract: labels, RPC payloads and events (built with the documents issue)."""
from __future__ import annotations
