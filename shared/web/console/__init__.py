"""The staff console: server-rendered pages, no JavaScript (see app.py)."""
