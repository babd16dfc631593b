"""Helpers every app may use that know nothing of the clinic's domain: who the client is
(`common.client`), rate limits (`common.ratelimit`) and rows kept forever (`common.kept`).

A leaf: it imports Django and nothing of ours, so any app may import it without an arrow
running back up; `clinic/` (the project's top) imports the apps, never the other way round.
Not a Django app: no models, no templates of its own.
"""
