"""What the clinic takes out: CSV (long and wide, with a data dictionary), coaching activity,
FHIR R4 NDJSON, REDCap, and the one-page visit report. Pseudonymous: study codes only."""
