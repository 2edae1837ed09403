"""DMS replication instance classes AWS offers (botocore's model has no enum for ReplicationInstanceClass).

Source, read 2026-11-29: AWS DMS user guide, "Choosing the right AWS DMS replication instance for your migration"
(CHAP_ReplicationInstance.Types.html): "AWS DMS currently supports the T2, T3, C4, C5, C6i, R4, R5 and R6i Amazon
EC2 instance classes", with the sizes of each family in the page's table. Which of them a region offers for an
engine version: `aws dms describe-orderable-replication-instances`.
"""

from __future__ import annotations

import datetime as dt

DMS_INSTANCE_CLASSES_DATE = dt.date(2026, 11, 29)
DMS_INSTANCE_CLASSES_SOURCE = "DMS user guide, 'Choosing the right AWS DMS replication instance for your migration'"
_SIZES: dict[str, tuple[str, ...]] = {
    "t2": ("micro", "small", "medium", "large"),
    "t3": ("micro", "small", "medium", "large"),
    "c4": ("large", "xlarge", "2xlarge", "4xlarge"),
    "c5": ("large", "xlarge", "2xlarge", "4xlarge", "9xlarge", "12xlarge", "18xlarge", "24xlarge"),
    "c6i": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "32xlarge"),
    "r4": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge"),
    "r5": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge"),
    "r6i": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "32xlarge"),
}
DMS_INSTANCE_CLASSES: tuple[str, ...] = tuple(f"dms.{family}.{size}" for family, sizes in _SIZES.items() for size in sizes)
