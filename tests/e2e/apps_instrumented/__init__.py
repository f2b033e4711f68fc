"""Three traced services for tests/e2e/test_instrumented_services.py: A → HTTP → B → Kafka → C."""
