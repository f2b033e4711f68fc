"""deploy/grafana, statically: the compose service provisions the ClickHouse data source and a
dashboard whose every query reads tables the schema creates, through that data source."""

from __future__ import annotations

import json
import re
from typing import Any

from clew.collector.schema.apply import schema_files
from tests.deploy.checks import COMPOSE, ROOT, load_yaml_documents

GRAFANA = ROOT / "deploy" / "grafana"
(COMPOSE_FILE,) = load_yaml_documents(COMPOSE)
TABLES = {
    found.group(1)
    for _, text in schema_files()
    for found in re.finditer(r"CREATE TABLE IF NOT EXISTS (\w+)", text)
}


def _datasource() -> dict[str, Any]:
    (doc,) = load_yaml_documents(GRAFANA / "provisioning" / "datasources" / "clickhouse.yaml")
    (source,) = doc["datasources"]
    return dict(source)


def test_compose_runs_grafana_with_the_provisioning_files() -> None:
    grafana = COMPOSE_FILE["services"]["grafana"]
    assert "grafana-clickhouse-datasource" in grafana["environment"]["GF_INSTALL_PLUGINS"]
    given = {c["target"]: COMPOSE_FILE["configs"][c["source"]]["file"] for c in grafana["configs"]}
    assert (ROOT / given["/etc/grafana/provisioning/datasources/clickhouse.yaml"]).is_file()
    assert (ROOT / given["/etc/grafana/provisioning/dashboards/clew.yaml"]).is_file()
    dashboards = [t for t in given if t.startswith("/var/lib/grafana/dashboards/")]
    assert dashboards and all((ROOT / given[t]).is_file() for t in dashboards)
    assert "clickhouse" in grafana["depends_on"]


def test_the_data_source_is_the_compose_clickhouse() -> None:
    source = _datasource()
    assert source["type"] == "grafana-clickhouse-datasource"
    clickhouse = COMPOSE_FILE["services"]["clickhouse"]["environment"]
    assert source["jsonData"]["host"] == "clickhouse" and source["jsonData"]["port"] == 8123
    assert source["jsonData"]["defaultDatabase"] == clickhouse["CLICKHOUSE_DB"]
    assert source["jsonData"]["username"] == clickhouse["CLICKHOUSE_USER"]
    assert source["secureJsonData"]["password"] == clickhouse["CLICKHOUSE_PASSWORD"]


def test_the_dashboard_reads_existing_tables_through_the_data_source() -> None:
    (provider,) = load_yaml_documents(GRAFANA / "provisioning" / "dashboards" / "clew.yaml")
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
    board = json.loads((GRAFANA / "dashboards" / "clew-overview.json").read_text())
    uid = _datasource()["uid"]
    titles = [panel["title"] for panel in board["panels"]]
    assert any("Failure groups" in t for t in titles) and any("Error rate" in t for t in titles)
    for panel in board["panels"]:
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == uid
            read = set(re.findall(r"FROM (\w+)", target["rawSql"]))
            assert read and read <= TABLES, (panel["title"], read - TABLES)
