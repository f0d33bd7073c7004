"""The recipes' last training step: temperature scaling fitted on dev (see :mod:`lstm_nlp.calibration`)."""

from __future__ import annotations

import logging

logger = logging.getLogger("lstm_nlp")


def calibrate_on_dev(pipeline, dev) -> float | None:
    """Fits ``pipeline.temperature`` on ``dev`` (labelled data, or ``None``: no dev set, temperature 1).

    The bundle then keeps it, and ``predict --probabilities`` / ``evaluate`` use it; tags and labels
    do not change. ``lstm-nlp predict --no-calibrate`` gives the raw probabilities to compare.
    """
    if dev is None:
        logger.info("calibration: no dev set, probabilities stay uncalibrated (temperature 1)")
        return None
    temperature = pipeline.fit_temperature(dev)
    logger.info("calibration: temperature %.3f fitted on dev (probabilities %s)", temperature,
                "sharpened" if temperature < 1 else "softened")
    return temperature
