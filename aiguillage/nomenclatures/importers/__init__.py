"""Importers for the formats the ANS publishes NOS in: FHIR JSON, IHE SVS XML, ``.tabs`` text."""
