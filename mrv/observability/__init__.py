"""Operations: request ids, JSON logs without secrets, and Prometheus metrics (README, "Operations").

* :mod:`.context` -- the request id (and the running task) of the code being run, in context variables.
* :mod:`.logs` -- the JSON log formatter and the filter that stamps each record with that context and
  takes tokens and e-mail addresses out of it.
* :mod:`.middleware` -- reads or makes the request id, echoes it in ``X-Request-ID``, logs one line per
  request.
* :mod:`.propagation` -- Celery signals: the id travels in the task's message headers, and the worker
  logs in JSON with it.
* :mod:`.metrics` -- ``GET /metrics`` (kept private by a bearer token) and the service's own gauges.
"""
