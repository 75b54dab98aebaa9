"""Providers: one per kind of data, each the only owner of its SQL, filters, keyset paging,
GeoJSON output and visibility rule (pygeoapi's provider layer).

    contributions   residents' contributions: what the public sees, what staff see
    layers          the open municipal layers (CBS, BAG, BGT, 3DBAG, ...) and their catalogue
    paging          the one cursor format and page shape both use

/api/v1, /ogc, /open311, /tiles, the exports, the reactienota and /beheer are adapters: they parse
parameters (kaart/params.py), call one provider function and render its answer.
"""
