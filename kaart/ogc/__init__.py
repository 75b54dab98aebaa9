"""OGC API – Features (Part 1 Core, Part 2 CRS by reference) over contributions and open layers.

crs.py          the CRSs we serve, bbox and geometry SQL per CRS
params.py       query parameters of /items, checked (400 naming the parameter otherwise)
collections.py  the collections: published contributions and every loaded open layer
items.py        keyset-paged items and single features, GeoJSON built in PostGIS
openapi.py      the OpenAPI 3.0 definition of /ogc
"""
