"""What consumers and regulators read: stories, pictures, test reports, provenance."""
