"""Keys that cannot be keys are refused before any request, named by setting, never shown."""

import pytest

from fleetlake.errors import ConfigurationError
from fleetlake.http.keys import check_key


@pytest.mark.parametrize("value", ['"fl-key-123"', "'fl-key-123'"])
def test_a_key_pasted_with_its_quotes_is_refused_without_showing_it(value):
    with pytest.raises(ConfigurationError) as raised:
        check_key(value, setting="api_key", section="sources.skysql_source")
    assert str(raised.value).startswith(
        "`api_key` in [sources.skysql_source] (or SOURCES__SKYSQL_SOURCE__API_KEY) contains quotes around it "
        "(12 characters in all)"
    )
    assert "fl-key-123" not in str(raised.value)
