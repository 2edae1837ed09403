"""The order and placement of test modules under pytest-xdist (`make test`: `-n 7 --dist loadfile`).

Most of the suite's wall time is a few emulator modules that wait on the AWS provider's fixed delays (30 s per
waiter) while using little CPU. They start first, longest first, each on a worker of its own: the scheduler queues
nothing behind a module of WAITING_MODULES while it runs, so a quick test never waits minutes for a worker that is
sleeping (but for one small module: a worker needs to know its next test before it starts one). The other
workers share the rest of the suite as `--dist loadfile` does (a module on one worker, so its
module fixtures run once).
"""

from __future__ import annotations

import pytest

# pytest-xdist ships no type information (and pyproject.toml's mypy section is not this module's to change).
from xdist.remote import Producer  # type: ignore[import-untyped]
from xdist.scheduler import LoadFileScheduling  # type: ignore[import-untyped]
from xdist.workermanage import WorkerController  # type: ignore[import-untyped]

# Longest first, each needs a worker of its own; seconds on the 2-core machine at a load average of about 6:
# staging 670 (deploy, breakages, major upgrade, destroy), password rotation 510, dev 460, plan role 240,
# secrets endpoint 200.
WAITING_MODULES: tuple[str, ...] = (
    "tests/integration/test_deploy_staging.py",
    "tests/integration/test_deploy_passwords.py",
    "tests/integration/test_deploy.py",
    "tests/integration/test_plan_role.py",
    "tests/integration/test_secrets_endpoint_plan.py",
)


def module_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def waiting_first(items: list[pytest.Item]) -> None:
    """Reorder in place: the modules of WAITING_MODULES in that order, then the rest as collected."""
    rank = {module: index for index, module in enumerate(WAITING_MODULES)}
    items.sort(key=lambda item: rank.get(module_of(item.nodeid), len(rank)))  # stable: a module stays contiguous


class WaitingFirstScheduling(LoadFileScheduling):  # type: ignore[misc]
    """`--dist loadfile` in collection order (waiting_first), with nothing queued behind a waiting module."""

    def __init__(self, config: pytest.Config, log: Producer | None = None) -> None:
        config.option.loadscopereorder = False  # by default xdist starts the modules with the most tests first
        super().__init__(config, log)

    def _reschedule(self, node: WorkerController) -> None:
        waiting = any(scope in WAITING_MODULES and not all(done.values()) for scope, done in self.assigned_work[node].items())
        if not (waiting and self.workqueue):  # with an empty queue the base class shuts the node down after its work
            super()._reschedule(node)
        elif self._pending_of(self.assigned_work[node]) < 2:
            # A worker runs a test only once it knows the next one (or is shut down): give it the smallest module,
            # which waits behind the waiting test, instead of leaving that test unstarted until the queue is empty.
            smallest = min(self.workqueue, key=lambda scope: (scope in WAITING_MODULES, len(self.workqueue[scope])))
            self.workqueue.move_to_end(smallest, last=False)
            self._assign_work_unit(node)
