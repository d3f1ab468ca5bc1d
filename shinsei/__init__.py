"""shinsei (申請): AI-OCR + RPA for mailed municipal application forms."""

__version__ = "0.1.0"
