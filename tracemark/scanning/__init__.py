"""A scan end to end: lookup, recording, clone risk, claims and the batch a consumer reads."""
