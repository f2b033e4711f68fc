"""Kafka broker fixture (scripts/kafka-broker). Filled in by the Kafka work."""
