"""CLI commands for doctor (see the matching core module)."""

from __future__ import annotations
