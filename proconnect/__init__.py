"""Sign-in with ProConnect: the OpenID Connect flow and the identity it keeps in the session."""
