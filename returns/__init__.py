"""Return mail (返戻): letters that tell residents what to fix, and mailing lists."""
