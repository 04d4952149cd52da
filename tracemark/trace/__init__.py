"""Supply-chain events: capture, a batch's journey, genealogy, recall, search, suppliers."""
