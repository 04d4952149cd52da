"""EPCIS 2.0 documents and GS1 identifiers, as data: no database here."""
