"""Several accounts of one API in one database, through the command line against emulators over real
sockets: the same ids of two organizations load as two rows, each account's cursor moves alone, an
account without its own key is refused, and one failing account costs the others nothing."""

from __future__ import annotations

from datetime import timedelta

import dlt
import duckdb
import pytest

from fleetlake.accounts import ACCOUNT_COLUMN, ORGANIZATION_COLUMN, Account, configured_accounts
from fleetlake.emulators.base import EmulatorSetup
from fleetlake.emulators.faults import parse_fault
from fleetlake.errors import ConfigurationError
from fleetlake.sources import get_api
from tests.cli.test_end_to_end import fleetlake
from tests.sources.tidb_cloud.conftest import NOW


def _accounts_env(clean_env, api: str, accounts: dict[str, tuple[object, str]]) -> dict[str, str]:
    """`accounts = [...]` and each account's settings (its emulator's) under its own section."""
    section = get_api(api).section.upper()
    env = {**clean_env, f"SOURCES__{section}__ACCOUNTS": ",".join(accounts)}
    for name, (emulator, url) in accounts.items():
        for setting, value in emulator.source_settings(url).items():
            env[f"SOURCES__{section}__{name.upper()}__{setting.upper()}"] = str(value)
    return env


def _rows(database, sql):
    with duckdb.connect(str(database), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def test_the_same_ids_in_two_organizations_load_as_two_rows(tmp_path, clean_env):
    # two organizations with the very same data (one seed), each behind its own key and server
    prod = get_api("skysql").emulator().build(EmulatorSetup(now=NOW, key="prod-key"))
    staging = get_api("skysql").emulator().build(EmulatorSetup(now=NOW, key="staging-key"))
    with prod.serve() as a, staging.serve() as b:
        env = _accounts_env(clean_env, "skysql", {"prod": (prod, a.url), "staging": (staging, b.url)})
        result = fleetlake("run", "skysql", "--pipelines-dir", str(tmp_path / "pipelines"), env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    database = tmp_path / "skysql_pipeline.duckdb"
    assert f"SkySQL (prod): loaded into {database}, dataset skysql_data" in result.stdout
    assert f"SkySQL (staging): loaded into {database}, dataset skysql_data" in result.stdout
    assert _rows(
        database,
        f"SELECT {ACCOUNT_COLUMN}, count(*), count(DISTINCT id) FROM skysql_data.services GROUP BY 1 ORDER BY 1",
    ) == [
        ("prod", 8, 8),
        ("staging", 8, 8),
    ]
    assert _rows(database, "SELECT count(DISTINCT id) FROM skysql_data.services") == [(8,)]
    # the vendor's organization id rides on every row beside the account, second in every primary key
    org = prod.data.org_id
    assert _rows(
        database,
        f"SELECT {ACCOUNT_COLUMN}, {ORGANIZATION_COLUMN}, count(*) FROM skysql_data.topologies GROUP BY ALL ORDER BY 1",
    ) == [("prod", org, 5), ("staging", org, 5)]
    schema = dlt.pipeline("skysql_pipeline_prod", pipelines_dir=str(tmp_path / "pipelines")).default_schema
    keys = {
        table["name"]: [column for column, hints in table["columns"].items() if hints.get("primary_key")]
        for table in schema.data_tables()
        if any(hints.get("primary_key") for hints in table["columns"].values())
    }
    assert keys["services"] == [ACCOUNT_COLUMN, ORGANIZATION_COLUMN, "id"]
    assert all(key[:2] == [ACCOUNT_COLUMN, ORGANIZATION_COLUMN] for key in keys.values()), keys
    assert len(keys) == 23
    # each account is its own pipeline: its own state beside the other's
    assert sorted(p.name for p in (tmp_path / "pipelines").iterdir()) == [
        "skysql_pipeline_prod",
        "skysql_pipeline_staging",
    ]
    assert "prod-key" not in result.stdout + result.stderr


def test_each_accounts_cursor_moves_alone(tmp_path, clean_env):
    prod = get_api("tidb").emulator().build(EmulatorSetup(now=NOW, key="prod-private"))
    staging = get_api("tidb").emulator().build(EmulatorSetup(now=NOW, key="staging-private"))
    args = ("run", "tidb", "--resources", "audit_logs", "--pipelines-dir", str(tmp_path / "pipelines"))
    with prod.serve() as a, staging.serve() as b:
        env = _accounts_env(clean_env, "tidb", {"prod": (prod, a.url), "staging": (staging, b.url)})
        first = fleetlake(*args, env=env, cwd=tmp_path)
        assert first.returncode == 0, first.stderr[-3000:]
        before = prod.expected_counts()["audit_logs"]
        prod.advance(timedelta(days=1))  # new audit logs in prod only
        second = fleetlake(*args, env=env, cwd=tmp_path)
    assert second.returncode == 0, second.stderr[-3000:]
    after = prod.expected_counts()["audit_logs"]
    assert after > before
    counts = _rows(tmp_path / "tidb_instance_pipeline.duckdb",
                   f"SELECT {ACCOUNT_COLUMN}, count(*) FROM tidb_instance_data.audit_logs GROUP BY 1 ORDER BY 1")  # fmt: skip
    assert counts == [("prod", after), ("staging", before)]
    # the second run loaded prod's new entries and nothing of staging's, whose cursor stayed put (the rows
    # column is the account's own rows in the table, whichever account loaded first)
    tables = second.stdout.split("TiDB Cloud (staging): loaded into")
    assert f"  audit_logs  {after:>8}  {after - before:>8}  loaded" in tables[0]
    assert f"  audit_logs  {before:>8}         0  loaded" in tables[1]


def test_an_account_without_its_own_key_is_refused(tmp_path, clean_env):
    prod = get_api("skysql").emulator().build(EmulatorSetup(now=NOW, key="prod-key"))
    env = _accounts_env(clean_env, "skysql", {"prod": (prod, "http://127.0.0.1:9")})
    env["SOURCES__SKYSQL_SOURCE__ACCOUNTS"] = "prod,staging"
    env["SOURCES__SKYSQL_SOURCE__API_KEY"] = "the-sections-key"  # never taken for staging
    result = fleetlake("run", "skysql", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(
        "error: Account 'staging' of SkySQL has no api_key of its own: set api_key under "
        "[sources.skysql_source.staging] in .dlt/secrets.toml (or SOURCES__SKYSQL_SOURCE__STAGING__API_KEY)."
    )
    assert "the-sections-key" not in result.stderr


def test_one_failing_account_costs_the_others_nothing(tmp_path, clean_env):
    prod = get_api("secoda").emulator().build(EmulatorSetup(now=NOW, key="prod-token"))
    staging = get_api("secoda").emulator().build(EmulatorSetup(now=NOW, key="staging-token"))
    with prod.serve() as a, staging.serve() as b:
        env = _accounts_env(clean_env, "secoda", {"prod": (prod, a.url), "staging": (staging, b.url)})
        env["SOURCES__SECODA_SOURCE__STAGING__API_KEY"] = "a-revoked-token"
        result = fleetlake("run", "secoda", "--pipelines-dir", str(tmp_path / "pipelines"), env=env, cwd=tmp_path)
    assert result.returncode == 7, result.stderr[-3000:]
    failed = [line for line in result.stderr.splitlines() if line.startswith("failed: Secoda (staging): ")]
    assert len(failed) == 1
    assert "answered 401 Unauthorized" in failed[0]
    assert "partial run: 1 of 2 loaded; Secoda (staging) failed (see above)" in result.stderr
    assert "a-revoked-token" not in result.stdout + result.stderr
    assert _rows(tmp_path / "secoda_pipeline.duckdb",
                 f"SELECT {ACCOUNT_COLUMN}, count(*) FROM secoda_data.tags GROUP BY 1") == [("prod", 15)]  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "names"),
    [(["prod", "staging"], ["prod", "staging"]), ('["eu_1"]', ["eu_1"]), ("prod, staging", ["prod", "staging"])],
)
def test_accounts_are_read_as_toml_lists_json_or_commas(raw, names):
    values = {"sources.skysql_source.accounts": raw}
    values.update({f"sources.skysql_source.{n}.api_key": f"key-{n}" for n in names})
    accounts = configured_accounts(get_api("skysql"), lambda key, _type: values.get(key))
    assert accounts == [Account(n, {"api_key": f"key-{n}"}) for n in names]
    assert "key-" not in repr(accounts)  # an account's settings hold its secrets: never shown


def test_an_accounts_settings_from_the_environment_are_typed_as_the_source_declares(monkeypatch):
    monkeypatch.setenv("SOURCES__SKYSQL_SOURCE__ACCOUNTS", "prod")
    monkeypatch.setenv("SOURCES__SKYSQL_SOURCE__PROD__API_KEY", "k")
    monkeypatch.setenv("SOURCES__SKYSQL_SOURCE__PROD__PAGE_SIZE", "2")
    monkeypatch.setenv("SOURCES__SKYSQL_SOURCE__PROD__MAX_QUOTA_WAIT_SECONDS", "30")
    (account,) = configured_accounts(get_api("skysql")) or []
    assert account.settings == {"api_key": "k", "page_size": 2, "max_quota_wait_seconds": 30.0}


@pytest.mark.parametrize(("raw", "said"), [("Prod", "'Prod'"), ("a,a", "twice"), ([], "must be a list")])
def test_a_bad_account_list_is_named(raw, said):
    with pytest.raises(ConfigurationError) as raised:
        configured_accounts(get_api("skysql"), lambda key, _type: {"sources.skysql_source.accounts": raw}.get(key))
    assert said in str(raised.value)
    assert "`accounts` in [sources.skysql_source]" in str(raised.value)


def test_check_asks_each_account_with_its_own_key(tmp_path, clean_env):
    prod = get_api("skysql").emulator().build(EmulatorSetup(now=NOW, key="prod-key"))
    staging = get_api("skysql").emulator().build(EmulatorSetup(now=NOW, key="staging-key"))
    with prod.serve() as a, staging.serve() as b:
        env = _accounts_env(clean_env, "skysql", {"prod": (prod, a.url), "staging": (staging, b.url)})
        good = fleetlake("check", "skysql", env=env, cwd=tmp_path)
        env["SOURCES__SKYSQL_SOURCE__STAGING__API_KEY"] = "a-revoked-key"
        bad = fleetlake("check", "skysql", env=env, cwd=tmp_path)
    assert good.returncode == 0, good.stdout + good.stderr
    lines = good.stdout.splitlines()
    assert [line for line in lines if line.startswith("account ")] == ["account prod:", "account staging:"]
    assert sum(line.startswith("ok  ") for line in lines) == 8  # SkySQL's four areas, for each account
    assert (len(prod.requests), len(staging.requests)) == (4 + 4, 4 + 4)  # each asked with its own key, twice
    assert bad.returncode == 3
    assert bad.stderr.startswith(f"error: SkySQL services (GET {b.url}/provisioning/v1/services) answered 401")
    assert "(4 of 4 SkySQL (staging) checks failed; each is listed above.)" in bad.stderr
    assert "a-revoked-key" not in bad.stdout + bad.stderr


def test_an_account_that_starts_answering_for_another_organization_is_refused(tmp_path, clean_env):
    first = get_api("skysql").emulator().build(EmulatorSetup(now=NOW, key="prod-key"))
    other = get_api("skysql").emulator().build(EmulatorSetup(now=NOW, key="prod-key", seed=5))  # another org
    args = ("run", "skysql", "--pipelines-dir", str(tmp_path / "pipelines"))
    database = tmp_path / "skysql_pipeline.duckdb"
    services = f"SELECT count(*), min(id) FROM skysql_data.services WHERE {ACCOUNT_COLUMN} = 'prod'"
    with first.serve() as a, other.serve() as b:
        env = _accounts_env(clean_env, "skysql", {"prod": (first, a.url)})
        assert fleetlake(*args, env=env, cwd=tmp_path).returncode == 0
        before = _rows(database, services)
        moved = fleetlake(*args, env={**env, "SOURCES__SKYSQL_SOURCE__PROD__BASE_URL": b.url}, cwd=tmp_path)
        back = fleetlake(*args, env=env, cwd=tmp_path)
    assert moved.returncode == 2, moved.stderr[-3000:]
    first_org, other_org = first.data.org_id, other.data.org_id
    (error,) = [line for line in moved.stderr.splitlines() if line.startswith("error: ")]
    assert error.startswith(
        f"error: Account 'prod' of SkySQL now answers for organization {other_org}, but its pipeline "
        f"skysql_pipeline_prod loaded organization {first_org} before:"
    )
    assert "prod-key" not in moved.stdout + moved.stderr
    # asked before anything extracted: the other organization's server saw one request, its billing account
    assert [record.path for record in other.requests.records()] == ["/billing/v1/account"]
    # nothing of the other organization loaded, and the account goes on where it was with its own key
    assert before[0][0] == 8
    assert back.returncode == 0, back.stderr[-3000:]
    assert _rows(database, services) == before
    assert _rows(database, "SELECT count(*) FROM skysql_data.billing_account") == [(1,)]


def test_an_organization_question_refused_alone_keys_the_rows_by_the_organization_known(tmp_path, clean_env):
    # the key lacks the billing role on the second run: the billing account fails alone (exit 7), and the
    # services still load keyed by the organization the pipeline stored on the first run
    first = get_api("skysql").emulator().build(EmulatorSetup(now=NOW, key="prod-key"))
    refused = (
        get_api("skysql")
        .emulator()
        .build(EmulatorSetup(now=NOW, key="prod-key", faults=[parse_fault("403@/billing/v1/account,times=forever")]))
    )
    args = ("run", "skysql", "--pipelines-dir", str(tmp_path / "pipelines"))
    database = tmp_path / "skysql_pipeline.duckdb"
    with first.serve() as a, refused.serve() as b:
        env = _accounts_env(clean_env, "skysql", {"prod": (first, a.url)})
        assert fleetlake(*args, env=env, cwd=tmp_path).returncode == 0
        again = fleetlake(*args, env={**env, "SOURCES__SKYSQL_SOURCE__PROD__BASE_URL": b.url}, cwd=tmp_path)
    assert again.returncode == 7, again.stderr[-3000:]
    assert "SkySQL (prod): could not ask which organization the key answers for (" in again.stderr
    assert f"its rows are keyed by the organization its pipeline loaded before, '{first.data.org_id}'." in again.stderr
    assert _rows(database, f"SELECT DISTINCT {ORGANIZATION_COLUMN} FROM skysql_data.services") == [(first.data.org_id,)]
    assert _rows(database, "SELECT count(*) FROM skysql_data.services") == [(8,)]


def test_an_account_taken_out_of_the_configuration_keeps_its_rows_and_is_named(tmp_path, clean_env):
    prod = get_api("skysql").emulator().build(EmulatorSetup(now=NOW, key="prod-key"))
    staging = get_api("skysql").emulator().build(EmulatorSetup(now=NOW, key="staging-key", seed=5))
    args = ("run", "skysql", "--resources", "billing_account,services", "--pipelines-dir", str(tmp_path / "pipelines"))
    database = tmp_path / "skysql_pipeline.duckdb"
    with prod.serve() as a, staging.serve() as b:
        both = _accounts_env(clean_env, "skysql", {"prod": (prod, a.url), "staging": (staging, b.url)})
        assert fleetlake(*args, env=both, cwd=tmp_path).returncode == 0
        assert "no longer names" not in fleetlake(*args, env=both, cwd=tmp_path).stderr
        alone = fleetlake(*args, env=_accounts_env(clean_env, "skysql", {"prod": (prod, a.url)}), cwd=tmp_path)
    assert alone.returncode == 0, alone.stderr[-3000:]
    (note,) = [line for line in alone.stderr.splitlines() if line.startswith("note: skysql_data also holds")]
    assert note.startswith(
        "note: skysql_data also holds rows of accounts the configuration no longer names: staging (1 row in "
        "billing_account). They stay as they were;"
    )
    assert _rows(database, f"SELECT {ACCOUNT_COLUMN}, count(*) FROM skysql_data.services GROUP BY 1 ORDER BY 1") == [
        ("prod", 8),
        ("staging", 8),
    ]
