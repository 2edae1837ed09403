"""Database Insights on the cluster (provider 5.100 `aws_rds_cluster.database_insights_mode`; box 12 of #26)."""

from __future__ import annotations

from tests.helpers import only_resource
from tests.modules.test_aurora import synth_cluster


def test_standard_mode_is_set_on_the_cluster_without_cluster_performance_insights() -> None:
    cluster = only_resource(synth_cluster(), "aws_rds_cluster")
    assert cluster["database_insights_mode"] == "standard"
    assert "performance_insights_enabled" not in cluster


def test_advanced_mode_enables_the_clusters_performance_insights_with_465_days() -> None:
    # botocore rds CreateDBCluster.DatabaseInsightsMode: advanced needs PerformanceInsightsEnabled and 465 days.
    cluster = only_resource(
        synth_cluster(database_insights_mode="advanced", performance_insights_retention_days=465), "aws_rds_cluster"
    )
    assert cluster["database_insights_mode"] == "advanced"
    assert cluster["performance_insights_enabled"] is True
    assert cluster["performance_insights_retention_period"] == 465
    assert cluster["performance_insights_kms_key_id"].startswith("arn:aws:kms:")
