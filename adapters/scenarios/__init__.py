"""Made-up clusters: the shop stories and the large cluster, simulated in virtual time or driven into Kafka."""
