"""The ASGI app: public library, patient guide, care-team pages, JSON API, FHIR, Infobutton."""
