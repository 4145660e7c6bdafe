"""`alops devset build`: a small subset of the full data whose distribution matches it (``run.build``)."""
