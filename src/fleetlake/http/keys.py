"""API key checks: a key is refused before any request when it cannot be one (empty, spaces, line breaks).

A key pasted with a trailing line break or a space fails later as a 401 (or, in a digest header, as a
requests error that shows the header); said up front, with the setting's name, it is fixed in seconds.
Messages never contain the key: only its length and what kind of character is wrong.
"""

from __future__ import annotations

from fleetlake.errors import ConfigurationError, env_variable


def _wrong_characters(value: str) -> str | None:
    """What kind of character a key must not have, or None: keys are printable ASCII without spaces."""
    if any(char in "\r\n" for char in value):
        trailing_only = not any(char in "\r\n" for char in value.rstrip("\r\n"))
        return "a line break at its end" if trailing_only else "a line break"
    if any(char.isspace() for char in value):
        return "a space or tab" + (" at its start or end" if value.strip() != value else "")
    if any(not char.isprintable() for char in value):
        return "a non-printable (control) character"
    if not value.isascii():
        return "a character outside ASCII"
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'`":
        # TOML keeps quotes that were typed inside the string ("'key'"); no vendor's key is quoted
        return "quotes around it"
    return None


def check_key(value: str | None, *, setting: str, section: str) -> str:
    """Return the key, or raise a `ConfigurationError` naming the setting and what is wrong with it."""
    where = f"`{setting}` in [{section}] (or {env_variable(section, setting)})"
    if not value:
        raise ConfigurationError(
            f"{where} is empty. Set it to the API key in .dlt/secrets.toml or the environment variable "
            "(see .dlt/example.secrets.toml)."
        )
    wrong = _wrong_characters(value)
    if wrong is not None:
        raise ConfigurationError(
            f"{where} contains {wrong} ({len(value)} characters in all); API keys are printable ASCII without "
            "spaces or line breaks. Copy the key again into the setting, without quotes, spaces or line breaks."
        )
    return value
