"""The built-in OCR engines; the contract is :mod:`ocr.engine`."""
