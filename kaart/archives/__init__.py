"""Prebuilt tiles: a PMTiles archive per open layer, made from the tile SQL the server runs.

    store.py  the archive directory (KAART_TILES_DIR): content-addressed file names, the
              manifest that says which file is current per layer, the atomic swap, the grace
              period for the previous file, and which archive the catalogue may hand out
    build.py  the build: every tile of the layer's extent in a zoom range, rendered in parallel
              by kaart/services/tiles.py, gzipped and written to a PMTiles v3 file
    cli.py    `kaart tiles build` (also run after `kaart layers load` and by `kaart demo load`)

The app serves the files with range requests (kaart/views/archives.py) and the catalogue
(/api/v1/layers) gives each layer's archive URL; the map reads it with protomaps-leaflet.
"""
