"""The OTLP receivers: HTTP (FastAPI) and gRPC, both feeding one Pipeline."""
