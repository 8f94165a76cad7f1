"""Pages (Jinja2). Placeholder until the page layer lands."""
from __future__ import annotations

import html


def render_error(req, status: int, message: str) -> str:
    return f"<!doctype html><meta charset=utf-8><title>提示</title><p>{html.escape(message)}</p>"


def register(app) -> None:
    pass
