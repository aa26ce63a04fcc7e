"""aiguillage: interoperability integration engine for French healthcare."""

__version__ = "0.1.0"
