"""Value sets AWS documents for settings the config accepts and the contract gate checks."""

from __future__ import annotations

import unicodedata

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

# botocore `rds` model, CreateDBCluster.PreferredBackupWindow ("Must be at least 30 minutes", "Must not conflict with
# the preferred maintenance window") and PreferredMaintenanceWindow ("Must be at least 30 minutes"); botocore `dms`
# CreateReplicationInstance.PreferredMaintenanceWindow ("Minimum 30-minute window").
MIN_WINDOW_MINUTES = 30

# botocore `rds` model, shape Tag: Key "from 1 to 128 Unicode characters", Value "from 1 to 256", neither "prefixed
# with aws: or rds:", both only "Unicode letters, digits, white-space, '_', '.', ':', '/', '=', '+', '-', '@'".
TAG_KEY_MAX_LENGTH = 128
TAG_VALUE_MAX_LENGTH = 256
TAG_RESERVED_PREFIXES = ("aws:", "rds:")
TAG_PUNCTUATION = "_.:/=+-@"
TAG_RULE = "Unicode letters, digits, spaces and _ . : / = + - @"


def tag_problem(text: str, *, max_length: int) -> str | None:
    """Why AWS refuses `text` as a tag key or value (RDS's rule, the strictest of the stack's services), or None."""
    if not 1 <= len(text) <= max_length:
        return f"1 to {max_length} characters, got {len(text)}"
    if text.lower().startswith(TAG_RESERVED_PREFIXES):
        return f"the prefixes {' and '.join(TAG_RESERVED_PREFIXES)} are reserved for AWS"
    wrong = sorted({c for c in text if unicodedata.category(c)[0] not in "LNZ" and c not in TAG_PUNCTUATION})
    if wrong:
        return f"only {TAG_RULE}; not {''.join(wrong)!r}"
    return None
