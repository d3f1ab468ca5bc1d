"""Human review (目視確認) through an exported spreadsheet and its import."""
