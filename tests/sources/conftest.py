"""The three APIs' emulator fixtures, for tests of tests/sources/ that use more than one API."""

from tests.sources.secoda.conftest import secoda  # noqa: F401 (a fixture)
from tests.sources.skysql.conftest import skysql  # noqa: F401 (a fixture)
from tests.sources.tidb_cloud.conftest import tidb  # noqa: F401 (a fixture)
