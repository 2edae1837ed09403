"""verify's `aurora.database-insights` check against a fake RDS answer (DescribeDBClusters `DatabaseInsightsMode`)."""

from __future__ import annotations

from typing import Any

import pytest

from config import load_environment
from config.loader import CONFIG_DIR
from migration_ops.results import Status
from migration_ops.verify.aurora import check_database_insights
from migration_ops.verify.context import AwsClients, VerifyContext

CLUSTER_ID = "aurora-migration-cluster-dev"


class FakeRds:
    def __init__(self, cluster: dict[str, Any]) -> None:
        self.cluster = cluster

    def describe_db_clusters(self, **_: Any) -> dict[str, Any]:
        return {"DBClusters": [{"DBClusterIdentifier": CLUSTER_ID, **self.cluster}]}


def context(cluster: dict[str, Any], *, mode: str = "standard", retention: int = 7) -> VerifyContext:
    config = load_environment(CONFIG_DIR / "dev.toml")
    aurora = config.aurora.model_copy(update={"database_insights_mode": mode, "performance_insights_retention_days": retention})
    aws: Any = AwsClients(rds=FakeRds(cluster), dms=None, secretsmanager=None, cloudwatch=None)  # type: ignore[arg-type]
    return VerifyContext(
        outputs={"cluster_id": CLUSTER_ID}, config=config.model_copy(update={"aurora": aurora}), aws=aws, emulated=True
    )


@pytest.mark.parametrize(
    ("cluster", "mode", "retention", "status"),
    [
        ({"DatabaseInsightsMode": "standard"}, "standard", 7, Status.PASS),
        ({}, "standard", 7, Status.PASS),
        ({"DatabaseInsightsMode": "standard"}, "advanced", 465, Status.FAIL),
        ({"DatabaseInsightsMode": "advanced", "PerformanceInsightsRetentionPeriod": 465}, "advanced", 465, Status.PASS),
        ({"DatabaseInsightsMode": "advanced", "PerformanceInsightsRetentionPeriod": 7}, "advanced", 465, Status.FAIL),
    ],
)
def test_the_mode_of_the_cluster_is_the_configured_one(
    cluster: dict[str, Any], mode: str, retention: int, status: Status
) -> None:
    result = check_database_insights(context(cluster, mode=mode, retention=retention))
    assert result.status is status, result
    assert f"configured {mode}" in result.evidence
