"""Knowledge base: guidance documents, the mission directory and their ingestion."""
