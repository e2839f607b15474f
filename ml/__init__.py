"""Propensity models: features from the warehouse, scikit-learn training and
evaluation, a model registry in ``ml`` and daily scoring."""
