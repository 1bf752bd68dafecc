"""The EventBridge Scheduler API of the batchyard server (rest-json, botocore ``scheduler``).

Every operation is a thin handler over :class:`batchyard.scheduler.ScheduleBook`, which
speaks AWS's shapes and raises ``SchedulerError`` with AWS's code and text; ``install``
(``wiring.py``) runs the :class:`~batchyard.scheduler.Scheduler` worker beside it.
"""

from batchyard.api.scheduler.handlers import SchedulerApi
from batchyard.api.scheduler.wiring import install

__all__ = ["SchedulerApi", "install"]
