"""The machine's clock moved ahead, for the guard run in ``.ci/run``.

Python imports ``sitecustomize`` at start-up from any folder on ``PYTHONPATH``. ``.ci/run``
puts this folder there with ``TEST_CLOCK_AHEAD_DAYS`` set, so every process of that run
(pytest, its xdist workers, and each ``coach`` the tests start) sees the wall clock that many
days ahead, still ticking. (Not a ``COACH_`` name: tests that start ``coach`` with a clean
environment drop those.) A test whose outcome depends on the day it runs then fails in CI
today, not on the day it would have broken. The shift is whole days from the real time, so
processes started at different moments agree on the time (the send budget shares
``time.time()`` between them through the database). ``time.monotonic`` is left alone: it
measures durations, not dates.

libfaketime would do the same from outside Python, but under it Python 3.11's
``threading.Event.wait(timeout)`` hangs or ``time.sleep`` fails with EINVAL, depending on
whether the monotonic clock is faked.
"""

import os

_days = os.environ.get("TEST_CLOCK_AHEAD_DAYS")
if _days:
    import time
    from datetime import UTC, datetime, timedelta

    import time_machine

    _dest = datetime.fromtimestamp(time.time(), UTC) + timedelta(days=int(_days))
    time_machine.travel(_dest, tick=True).start()
