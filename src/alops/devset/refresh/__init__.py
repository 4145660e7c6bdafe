"""`alops devset refresh`: check; when the dev set drifted, rebuild it and open a merge request (``run.refresh``)."""
