"""The gRPC forecasting service and its Python client."""
