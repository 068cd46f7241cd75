"""callcoach: compliance and coaching analysis of debt-collection calls."""

__version__ = "0.1.0"
