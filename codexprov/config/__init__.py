"""Reading and editing Codex config files without losing a byte the edit does not concern.

- `document`: read and validate (TOML 1.1 as Codex reads it; errors name file:line:col).
- `scan`: split a TOML text into its preamble and table sections, aware of strings and arrays.
- `edit`: text -> text edits that touch only the sections they concern (tomlkit on those alone).
- `transaction`: lock, re-read, edit, verify, atomic write, backup, undo.
"""
