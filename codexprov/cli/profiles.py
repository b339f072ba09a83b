"""CLI commands for profiles (see the matching core module)."""

from __future__ import annotations
