"""The AWS regions a stack may name, by partition: botocore's endpoints.json (`partitions[].regions`), copied here.

Source: botocore 1.x `botocore/data/endpoints.json` as installed on REGIONS_DATE; tests/contract/test_contract.py
fails when the installed botocore knows a region this table does not (or drops one), so a botocore upgrade that
adds a region says so instead of refusing it at synth. Regenerate with `python -m contract.aws_regions`.
"""

from __future__ import annotations

import datetime as dt

REGIONS_DATE = dt.date(2026, 11, 29)
REGIONS_BY_PARTITION: dict[str, tuple[str, ...]] = {
    "aws": (
        "af-south-1", "ap-east-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-south-2",
        "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-7",
        "ca-central-1", "ca-west-1", "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2",
        "eu-west-1", "eu-west-2", "eu-west-3", "il-central-1", "me-central-1", "me-south-1", "mx-central-1",
        "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
    ),
    "aws-cn": ("cn-north-1", "cn-northwest-1"),
    "aws-us-gov": ("us-gov-east-1", "us-gov-west-1"),
    "aws-iso": ("us-iso-east-1", "us-iso-west-1"),
    "aws-iso-b": ("us-isob-east-1",),
    "aws-iso-e": ("eu-isoe-west-1",),
    "aws-iso-f": (),
}  # fmt: skip
KNOWN_REGIONS = frozenset(region for regions in REGIONS_BY_PARTITION.values() for region in regions)


def installed_botocore_regions() -> dict[str, tuple[str, ...]]:
    """The same table read from the installed botocore (the test and the generator; never at synth)."""
    import botocore.loaders

    endpoints = botocore.loaders.create_loader().load_data("endpoints")
    return {partition["partition"]: tuple(sorted(partition["regions"])) for partition in endpoints["partitions"]}


if __name__ == "__main__":
    for name, regions in installed_botocore_regions().items():
        print(f"    {name!r}: {regions!r},")
