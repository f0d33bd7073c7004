"""The recipes' last training step: temperature scaling fitted on dev (see :mod:`lstm_nlp.calibration`)."""

from __future__ import annotations

import logging

from lstm_nlp.calibration import TEMPERATURE_RANGE

logger = logging.getLogger("lstm_nlp")


def calibrate_on_dev(pipeline, dev) -> float | None:
    """Fits ``pipeline.temperature`` on ``dev`` (labelled data, or ``None``: no dev set, temperature 1);
    returns it, or ``None`` when it stays 1 (no dev set, or a fit at an end of the range: see below).

    The bundle then keeps it, and ``predict --probabilities`` / ``evaluate`` use it; tags and labels
    do not change. ``lstm-nlp predict --no-calibrate`` gives the raw probabilities to compare.
    """
    if dev is None:
        logger.info("calibration: no dev set, probabilities stay uncalibrated (temperature 1)")
        return None
    temperature = pipeline.fit_temperature(dev)
    low, high = TEMPERATURE_RANGE
    if temperature < low * 1.01 or temperature > high * 0.99:
        # At an end of the range the likelihood had no minimum inside it: on dev every prediction is right
        # (or wrong) with room to spare, and the fit would only push the probabilities to 0 or 1.
        pipeline.temperature = 1.0
        logger.info("calibration: the dev likelihood has no minimum for a temperature in [%g, %g] (every dev "
                    "prediction is %s), so the probabilities stay uncalibrated (temperature 1)", low, high,
                    "right" if temperature < 1 else "wrong")
        return None
    logger.info("calibration: temperature %.3f fitted on dev (probabilities %s)", temperature,
                "sharpened" if temperature < 1 else "softened")
    return temperature
