"""Kafka-buffered ingestion: receivers publish accepted requests, a writer group stores them."""
