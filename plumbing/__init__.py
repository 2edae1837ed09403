"""The ground floor's plumbing: what several layers need and none should write twice.

- `exit_codes`: the 0/1/2 every command exits with.
- `atomic_dir`: build a directory beside its final place and swap it in whole.
- `atomic_file`: write a file beside its final place, fsync'ed, and rename it in whole.
- `tool`: run an external tool (terraform, checkov, git, actionlint) with a timeout and a bounded stderr tail.
- `text`: the small formatting helpers messages share (lists cut to a length, an error's first line, sizes, durations).

Imports nothing from the project, like `contract/`.
"""
