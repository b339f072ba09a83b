"""CLI commands for recipes (see the matching core module)."""

from __future__ import annotations
