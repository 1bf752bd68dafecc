"""batchyard's scheduling policies, carried in tags so the API stays AWS's.

AWS lets only schedule *groups* carry tags, so the policies of a schedule are the
``batchyard:*`` tags of its group, and, for state-machine targets, of the state machine:

=============================== ============================= ==================================
tag                             values (default first)        on
=============================== ============================= ==================================
``batchyard:overlap``           allow | forbid | queue |      group, or the target state machine
                                replace                       (the group's wins)
``batchyard:max-concurrency``   positive integer              the target state machine
``batchyard:catch-up``          latest | none | all           group
``batchyard:catch-up-limit``    positive integer (100)        group (bound of ``all``)
``batchyard:starting-deadline`` seconds (300)                 group
=============================== ============================= ==================================

``validate_tags`` gives the message the API answers a bad value with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

PREFIX = "batchyard:"
OVERLAP = f"{PREFIX}overlap"
MAX_CONCURRENCY = f"{PREFIX}max-concurrency"
CATCH_UP = f"{PREFIX}catch-up"
CATCH_UP_LIMIT = f"{PREFIX}catch-up-limit"
STARTING_DEADLINE = f"{PREFIX}starting-deadline"

OVERLAPS = ("allow", "forbid", "queue", "replace")
CATCH_UPS = ("latest", "none", "all")
DEFAULT_DEADLINE = timedelta(seconds=300)
DEFAULT_CATCH_UP_LIMIT = 100
# Skipped slots recorded one by one per catch-up pass; older ones are only counted in the log.
MAX_RECORDED_SKIPS = 1000


@dataclass(frozen=True)
class Policy:
    overlap: str = "allow"
    max_concurrency: int | None = None
    catch_up: str = "latest"
    catch_up_limit: int = DEFAULT_CATCH_UP_LIMIT
    starting_deadline: timedelta = DEFAULT_DEADLINE

    @property
    def needs_lock(self) -> bool:
        """Whether starting a slot depends on what else is running."""
        return self.overlap != "allow" or self.max_concurrency is not None


def _positive(value: str) -> int | None:
    return int(value) if value.isdigit() and int(value) > 0 else None


def validate_tags(tags: Mapping[str, str]) -> str | None:
    """AWS-style message for the first bad ``batchyard:`` tag value, else ``None``."""
    for key, value in tags.items():
        if key == OVERLAP and value not in OVERLAPS:
            return f"Tag {key} must be one of {', '.join(OVERLAPS)}; got '{value}'."
        if key == CATCH_UP and value not in CATCH_UPS:
            return f"Tag {key} must be one of {', '.join(CATCH_UPS)}; got '{value}'."
        if key in (MAX_CONCURRENCY, CATCH_UP_LIMIT, STARTING_DEADLINE) and _positive(value) is None:
            return f"Tag {key} must be a positive integer; got '{value}'."
    return None


def policy(group_tags: Mapping[str, str], machine_tags: Mapping[str, str] | None = None) -> Policy:
    """The policy of a schedule from its group's tags and its state machine's tags.

    Values that do not parse are ignored (the API refuses them on groups; a state machine's
    tags are not ours to validate).
    """
    machine = machine_tags or {}
    overlap = group_tags.get(OVERLAP) or machine.get(OVERLAP) or "allow"
    catch_up = group_tags.get(CATCH_UP, "latest")
    deadline = _positive(group_tags.get(STARTING_DEADLINE, ""))
    return Policy(
        overlap=overlap if overlap in OVERLAPS else "allow",
        max_concurrency=_positive(machine.get(MAX_CONCURRENCY, "")),
        catch_up=catch_up if catch_up in CATCH_UPS else "latest",
        catch_up_limit=_positive(group_tags.get(CATCH_UP_LIMIT, "")) or DEFAULT_CATCH_UP_LIMIT,
        starting_deadline=timedelta(seconds=deadline) if deadline else DEFAULT_DEADLINE,
    )
