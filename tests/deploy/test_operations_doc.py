"""docs/OPERATIONS.md lists every setting as casehub/config.py defines it: the table between
its `settings` markers is generated from the Settings fields (name, default, description), so
a setting added, removed or changed there fails here until the document follows."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

from pydantic.fields import FieldInfo

from casehub.config import Settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "OPERATIONS.md"
BEGIN = "<!-- settings:begin (generated: tests/deploy/test_operations_doc.py) -->"
END = "<!-- settings:end -->"


def default_text(field: FieldInfo) -> str:
    """A field's default as it would be written in the environment."""
    value = field.get_default(call_default_factory=True)
    if value is None:
        return "(unset)"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, Enum):
        return f"`{value.value}`"
    if isinstance(value, list):
        return f"`{','.join(value)}`" if value else "(none)"
    return f"`{value}`"


def settings_table() -> str:
    """The Markdown table of every setting, in the order config.py declares them."""
    prefix = str(Settings.model_config.get("env_prefix", ""))
    lines = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        meaning = (field.description or "").replace("|", "\\|")
        lines.append(f"| `{prefix}{name.upper()}` | {default_text(field)} | {meaning} |")
    return "\n".join(lines)


def documented_table() -> str:
    text = DOC.read_text(encoding="utf-8")
    assert BEGIN in text, f"{DOC.name} lacks the line {BEGIN}"
    assert END in text, f"{DOC.name} lacks the line {END}"
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip()


def test_every_setting_is_documented_as_config_py_defines_it() -> None:
    expected = settings_table()
    assert documented_table() == expected, (
        f"docs/OPERATIONS.md's settings table is out of date; replace it with:\n\n{expected}\n"
    )


def test_every_setting_has_a_description() -> None:
    # The table's meaning column comes from these; an empty one would document nothing.
    undescribed = [name for name, field in Settings.model_fields.items() if not field.description]
    assert undescribed == []
