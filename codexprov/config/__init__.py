"""Reading and editing Codex config files without losing a byte the edit does not concern.

- `document`: read and validate as the installed Codex does (TOML 1.1, one byte-order mark; errors
  name file:line:col). Public: `load`, `parse`, `loads`, `read_text`, `read_file`, `same_data`,
  `config_error_from`, `newline_of`, `Snapshot`, `TOMLDecodeError`.
- `scan`: split a TOML text into its preamble and table sections, aware of strings and arrays.
  Public: `scan`, `parse_key`, `Section`.
- `edit`: text -> text edits that touch only the sections they concern (tomlkit on those alone).
  Public: `add_table`, `remove_table`, `set_root_keys`, `scoped_edit`, `render_section`,
  `toml_item` (the item to assign inside a `scoped_edit`), `defines_under`, `EditImpossible`.
- `textedit`: text surgery for what tomlkit cannot do: duplicates in a file that does not parse,
  renaming a table's headers, a table as a file of its own.
- `transaction`: lock, re-read, edit, verify, atomic write, backup, undo. Public: `apply_edit`,
  `apply_text_edit`, `delete_file`, `undo`, `write_atomic`, `EditResult`.
"""
