"""zones: the current zone rows' tiles stored per snapshot (risk.zone_tile), read by the public tile route (issue 15)

An uncached vector tile of the zones costs PostgreSQL a few milliseconds of clipping and encoding (ST_AsMVTGeom,
ST_AsMVT over ~260 areas at z12); the tiles of a snapshot change only with it. The publish step
(gis/publish/apitiles.py) stores the tiles of the current snapshot z5–z14, each tagged with the snapshot version
and boundary load it was made from; pub.zone_tiles_stored (layers/zone-tiles.sql) shows only the rows of the current
ones, so a stale tile is never read, and the route computes any tile not stored (gis/serve/fasttiles.py).
"""

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE risk.zone_tile (
            snapshot bigint NOT NULL,      -- risk.snapshot.version the tile was made from
            boundaries bigint NOT NULL,    -- max(admin.boundary_load.id) then, 0 before any load
            z smallint NOT NULL CHECK (z BETWEEN 0 AND 30),
            x integer NOT NULL CHECK (x >= 0),
            y integer NOT NULL CHECK (y >= 0),
            tile bytea NOT NULL,           -- the MVT as the tile SQL writes it (not compressed)
            PRIMARY KEY (snapshot, boundaries, z, x, y)
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS pub.zone_tiles_stored")
    op.execute("DROP TABLE risk.zone_tile")
