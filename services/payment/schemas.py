"""Payment's contract: labels, RPC payloads and events (built with the payment issue)."""
from __future__ import annotations
