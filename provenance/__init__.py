"""provkit provenance: video fingerprints, the generation registry and contribution certificates."""
