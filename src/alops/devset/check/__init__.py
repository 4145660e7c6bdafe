"""`alops devset check`: does the dev set still represent the full data? (``run.check``)."""
