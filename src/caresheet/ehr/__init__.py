"""The EHR side of caresheet: the standards an EHR speaks to reach the library.

- ``jwks``: verify a JWT against a JSON Web Key Set fetched over HTTP (CDS client tokens;
  later the SMART launch's id_token).
- ``clients``: the registered CDS clients and the one check of a signed request, with replay
  refused across every process through the database.
- ``fhir_fetch``: read from the EHR's FHIR server with the bearer token it lends us.
- ``cds_hooks``: the CDS Hooks 2.0 services: discovery, cards from procedure codes, feedback.

A service part: it imports the model, care, store, search and render, and the web imports it.
"""
