"""Outputs of a sheet: HTML, PDF, plain text and SMS, FHIR R4; one module per output.

The render layer imports the model only (never the web, CLI or store), so any caller with a
Sheet, from a file or from the database, can render it.
"""
