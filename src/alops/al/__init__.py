"""Active learning: the loop of al/* branches.

- :mod:`alops.al.query`: choose a batch from the pool's scores (the strategies, the batch files);
- :mod:`alops.al.labelstudio`: send it to Label Studio, bring the annotations back;
- :mod:`alops.al.labels`: read label files; :mod:`alops.al.ingest`: a new data version from them;
- :mod:`alops.al.history`: rounds and trainings from git; :mod:`alops.al.status`, :mod:`alops.al.sync`;
- :mod:`alops.al.score`, :mod:`alops.al.retrain`, :mod:`alops.al.record`: scoring and training on the branch;
- :mod:`alops.al.simulate`: the loop on data already labelled.

Nothing is imported here: ``alops al ingest`` does not pay for numpy's import.
"""
