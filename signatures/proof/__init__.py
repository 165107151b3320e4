"""Proof that a signature comes from its territory: the council deliberation or mandate a
signatory attaches (`fields`: the upload field; `storage`: where the file lives and how it
is served; `deliberations`: attaching it, a moderator's review of it, making it public;
`views`: the moderators' view of it), the verification level (`levels`: ProConnect, a
deliberation a moderator accepted, official email domain, email), and the PDF attestation
of a published signature (`attestation`).

A deliberation lives in private storage (settings.PRIVATE_ROOT) under a random name
(models.deliberation_path): no URL serves that directory. Two views stream it, after
their checks: `views.moderator_deliberation`, and public/verify.py's `deliberation` once
a moderator made it public.
"""
