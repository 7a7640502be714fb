"""caresheet: structured home-care sheets, their outputs, and a rule-based symptom check."""

__version__ = "0.1.0"
