"""Virtuele Assistent: a digital assistant for Dutch municipalities."""

__version__ = "0.1.0"
