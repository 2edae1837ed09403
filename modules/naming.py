"""The one place physical names are made: `<prefix>-<purpose>-<suffix>`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Naming:
    prefix: str
    suffix: str

    def name(self, purpose: str) -> str:
        """Physical name of a resource, e.g. `aurora-migration-cluster-dev`."""
        return f"{self.prefix}-{purpose}-{self.suffix}"

    @property
    def environment_name(self) -> str:
        """`<prefix>-<suffix>`: the stack and its dashboard."""
        return f"{self.prefix}-{self.suffix}"

    def alarm(self, purpose: str) -> str:
        """Alarm names lead with what is measured so on-call can filter them: `aurora-cpu-utilization-writer-dev`."""
        return f"{purpose}-{self.suffix}"
