"""CLI commands for keys (see the matching core module)."""

from __future__ import annotations
