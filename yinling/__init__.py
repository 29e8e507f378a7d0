"""Yinling command line, process runner and small shared helpers."""
