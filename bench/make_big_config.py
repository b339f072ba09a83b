"""Writes a config.toml like the ones years of Codex use leave behind: a few providers and about
2,000 `[projects."…"]` tables (about 6,000 lines). Used by the other bench scripts."""

from __future__ import annotations

import sys
from pathlib import Path

HEAD = """# Codex config
model = "gpt-5-codex"
model_provider = "openai"
approval_policy = "on-request"
sandbox_mode = "workspace-write"

[model_providers.acme]
name = "Acme"
base_url = "http://127.0.0.1:18431/v1"
env_key = "ACME_API_KEY"
wire_api = "responses"

[model_providers.local]
name = "Local"
base_url = "http://127.0.0.1:11434/v1"
wire_api = "responses"

[tui]
notifications = true

"""


def make(n_projects: int = 2000) -> str:
    parts = [HEAD]
    for i in range(n_projects):
        parts.append(f'[projects."/home/user/src/project-{i:04d}/checkout"]\ntrust_level = "trusted"\n\n')
    return "".join(parts)


if __name__ == "__main__":
    target = Path(sys.argv[1])
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(make(), encoding="utf-8")
    print(target, len(target.read_text().splitlines()), "lines")
