"""Integrations of the forecasting service into training platforms.

Nothing is imported here: ``server.integrations.trainer_callback`` pulls in
transformers (and so torch), and the serving path must never do that.
"""
