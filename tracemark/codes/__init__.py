"""Signed unit codes: signing keys, issuance in bulk, verification, printing, PINs."""
