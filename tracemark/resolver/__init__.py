"""The GS1 Digital Link resolver: links as data, resolution, linksets.

``identifiers`` parses a request URI into a :class:`~tracemark.resolver.identifiers.DigitalLink`
(400 reasons for everything malformed); ``vocabulary`` knows the GS1 Web link types;
``resolve`` picks the answer for an identifier, link type, languages and audience;
``linkset`` writes RFC 9264 documents; ``links`` holds the audited operations on links.
Nothing here imports Flask: the portal parses the request and renders the answer.
"""
