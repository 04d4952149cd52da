"""People: users, memberships and roles, second factors, sign-in throttling, API tokens."""
