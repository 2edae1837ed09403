"""Value sets AWS documents for settings the config accepts and the contract gate checks."""

from __future__ import annotations

# botocore `logs` model, PutRetentionPolicy.retentionInDays documentation ("Possible values are: ...").
CLOUDWATCH_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192,
    2557, 2922, 3288, 3653,
)  # fmt: skip

# botocore `rds` model, CreateDBInstance.PerformanceInsightsRetentionPeriod documentation: 7, month * 31 for
# 1-23 months, or 731.
PERFORMANCE_INSIGHTS_RETENTION_DAYS = (7, *(31 * months for months in range(1, 24)), 731)
PERFORMANCE_INSIGHTS_RETENTION_RULE = "7, a multiple of 31 from 31 to 713, or 731"

# Database Insights (botocore `rds` model, CreateDBCluster.DatabaseInsightsMode, enum DatabaseInsightsMode): "If you
# set this value to advanced, you must also set the PerformanceInsightsEnabled parameter to true and the
# PerformanceInsightsRetentionPeriod parameter to 465." The Aurora user guide ("Monitoring Amazon Aurora databases
# with CloudWatch Database Insights") says the Performance Insights console ended on 2026-07-31; Database Insights
# is where the same data is read now.
DATABASE_INSIGHTS_MODES = ("standard", "advanced")
ADVANCED_DATABASE_INSIGHTS_RETENTION_DAYS = 465
