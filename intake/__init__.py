"""Intake (受付): register every scan file of an inbox in the ledger."""

from intake.intake import IntakeReport, intake_inbox, scan_files

__all__ = ["IntakeReport", "intake_inbox", "scan_files"]
