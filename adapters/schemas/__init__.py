"""Schema registries: decode sampled records written in the Confluent wire format (Avro, Protobuf, JSON Schema)."""
