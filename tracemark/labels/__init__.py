"""Print-ready labels: QR rendering, PDF sheets, label files and the worker's renders."""
