"""``lstm-nlp serve``: an HTTP service around one model bundle (``pip install "lstm_nlp[serve]"``).

One module per job:

* :mod:`~lstm_nlp.serving.limits`: the service's limits (:class:`Limits`) and the API's errors;
* :mod:`~lstm_nlp.serving.requests`: parsing and checking a ``POST /v1/predict`` body;
* :mod:`~lstm_nlp.serving.batching`: the worker thread that owns the model and batches requests;
* :mod:`~lstm_nlp.serving.metrics`: the Prometheus metrics;
* :mod:`~lstm_nlp.serving.app`: the ASGI application (routes, error answers, the demo page);
* :mod:`~lstm_nlp.serving.server`: uvicorn, with SIGTERM draining the requests in flight.

Importing this package imports none of FastAPI, uvicorn or torch; its modules do.
"""

from __future__ import annotations

__all__ = ["Limits"]

from lstm_nlp.serving.limits import Limits
