import re

import pytest

from fleetlake.errors import ConfigurationError
from fleetlake.http.urls import check_base_url, is_loopback


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", True),
        ("127.8.9.1", True),
        ("localhost", True),
        ("[::1]", True),
        ("10.0.0.1", False),
        ("api.tidbcloud.com", False),
        ("localhost.evil.com", False),
    ],
)
def test_loopback_hosts(host, expected):
    assert is_loopback(host) is expected


def test_https_is_accepted_and_trailing_slash_dropped():
    assert check_base_url("https://api.tidbcloud.com/", setting="base_url", section="s") == "https://api.tidbcloud.com"


def test_http_is_accepted_for_loopback_only():
    assert check_base_url("http://127.0.0.1:8700/iam/v1beta1", setting="iam_base_url", section="s").endswith("v1beta1")
    with pytest.raises(ConfigurationError) as error:
        check_base_url("http://api.tidbcloud.com", setting="base_url", section="sources.tidb_instance_source")
    message = str(error.value)
    assert "`base_url` in [sources.tidb_instance_source]" in message
    assert "https://api.tidbcloud.com" in message


def test_not_a_url_names_the_setting():
    with pytest.raises(ConfigurationError, match=re.escape("`billing_base_url` in [s] is 'billing.tidbapi.com'")):
        check_base_url("billing.tidbapi.com", setting="billing_base_url", section="s")
