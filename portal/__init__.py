"""The public portal: what a phone camera opens when it scans a label."""

from portal.views import bp

__all__ = ["bp"]
