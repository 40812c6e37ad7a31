"""A schema nobody modelled, for hyper_admin.reflect and ``hyper-admin serve``: names as the
database keeps them (PostgreSQL: quoted mixed case, a reserved word; SQLite: spaces and
dashes), a composite primary key, a composite foreign key, a table with no key, a view (and on
PostgreSQL a materialized view), an enum type and a domain (PostgreSQL), CHECK bounds, column
comments (PostgreSQL), identity and generated columns, literal defaults."""

from hyper_admin.sqlorm_compat import is_postgresql

#: The tables and views by role, as each database names them.
NAMES = {
    "sqlite": {"artist": "Artist", "album": "Album", "playlist": "playlist track",
               "sale": "Sale", "summary": "album summary"},
    "postgresql": {"artist": "Artist", "album": "Album", "playlist": "PlaylistTrack",
                   "sale": "Sale", "summary": "AlbumSummary", "counts": "album_counts"},
}
#: The URL segment `hyper-admin serve` gives each.
SLUGS = {
    "sqlite": {"artist": "artist", "album": "album", "playlist": "playlist-track",
               "sale": "sale", "summary": "album-summary"},
    "postgresql": {"artist": "artist", "album": "album", "playlist": "playlisttrack",
                   "sale": "sale", "summary": "albumsummary", "counts": "album_counts"},
}

_POSTGRESQL = [
    """CREATE TYPE "Mood" AS ENUM ('calm', 'loud', 'sad')""",
    "CREATE DOMAIN release_year AS integer CHECK (VALUE >= 1901 AND VALUE <= 2155)",
    """CREATE TABLE "Artist" ("ArtistId" integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        "Name" varchar(120) NOT NULL UNIQUE)""",
    """COMMENT ON TABLE "Artist" IS 'Who made the albums'""",
    """COMMENT ON COLUMN "Artist"."Name" IS 'As printed on the cover'""",
    """CREATE TABLE "Album" ("AlbumId" integer PRIMARY KEY, "Title" text NOT NULL,
        "ArtistId" integer NOT NULL REFERENCES "Artist" ON DELETE CASCADE,
        "Price" numeric(8, 2) NOT NULL DEFAULT 9.99 CHECK ("Price" >= 0),
        rating integer CHECK (rating BETWEEN 1 AND 5),
        status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'live', 'gone')),
        mood "Mood", released release_year,
        "Double price" numeric GENERATED ALWAYS AS ("Price" * 2) STORED, "order" text)""",
    """CREATE TABLE "PlaylistTrack" ("PlaylistId" integer NOT NULL,
        "AlbumId" integer NOT NULL REFERENCES "Album", "Position" integer NOT NULL
        CHECK ("Position" > 0), PRIMARY KEY ("PlaylistId", "AlbumId"))""",
    """CREATE TABLE "Sale" ("PlaylistId" integer, "AlbumId" integer, amount integer,
        FOREIGN KEY ("PlaylistId", "AlbumId") REFERENCES "PlaylistTrack")""",
    """CREATE VIEW "AlbumSummary" AS SELECT a."AlbumId", a."Title", ar."Name" AS "Artist"
        FROM "Album" a JOIN "Artist" ar ON ar."ArtistId" = a."ArtistId\"""",
    """CREATE MATERIALIZED VIEW album_counts AS
        SELECT "ArtistId", count(*) AS albums FROM "Album" GROUP BY 1""",
]

_SQLITE = [
    """CREATE TABLE "Artist" ("ArtistId" INTEGER PRIMARY KEY, "Name" NVARCHAR(120) NOT NULL
        UNIQUE)""",
    """CREATE TABLE "Album" ("AlbumId" INTEGER PRIMARY KEY, "Title" TEXT NOT NULL,
        "ArtistId" INTEGER NOT NULL REFERENCES "Artist"("ArtistId") ON DELETE CASCADE,
        "Price" NUMERIC(8, 2) NOT NULL DEFAULT 9.99 CHECK ("Price" >= 0),
        rating INTEGER CHECK (rating BETWEEN 1 AND 5),
        status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'live', 'gone')),
        mood TEXT, released INTEGER CHECK (released >= 1901 AND released <= 2155),
        "Double price" NUMERIC GENERATED ALWAYS AS ("Price" * 2) VIRTUAL, "order" TEXT)""",
    """CREATE TABLE "playlist track" ("playlist-id" INTEGER NOT NULL,
        "AlbumId" INTEGER NOT NULL REFERENCES "Album"("AlbumId"),
        "Position" INTEGER NOT NULL CHECK ("Position" > 0),
        PRIMARY KEY ("playlist-id", "AlbumId"))""",
    """CREATE TABLE "Sale" ("playlist-id" INTEGER, "AlbumId" INTEGER, amount INTEGER,
        FOREIGN KEY ("playlist-id", "AlbumId") REFERENCES "playlist track")""",
    """CREATE VIEW "album summary" AS SELECT a."AlbumId", a."Title", ar."Name" AS "Artist"
        FROM "Album" a JOIN "Artist" ar ON ar."ArtistId" = a."ArtistId\"""",
]

ALBUMS = [
    (1, "For Those About to Rock", 1, "9.99", 5, "live", "loud", 1981),
    (2, "Balls to the Wall", 2, "8.00", 4, "draft", "calm", 1983),
    (3, "Restless and Wild", 2, "7.50", None, "gone", None, None),
]


def create_reflect_schema(engine) -> dict[str, str]:
    """Create the tables, views and rows; return NAMES for the engine's database."""
    backend = "postgresql" if is_postgresql(engine) else "sqlite"
    names = NAMES[backend]
    playlist_key = '"PlaylistId"' if backend == "postgresql" else '"playlist-id"'
    with engine as tx:
        for statement in _POSTGRESQL if backend == "postgresql" else _SQLITE:
            tx.execute(statement)
        tx.execute("""INSERT INTO "Artist" ("Name") VALUES ('AC/DC'), ('Accept')""")
        for album in ALBUMS:
            values = ", ".join("NULL" if v is None else repr(v) if not isinstance(v, str)
                               else "'" + v + "'" for v in album)
            tx.execute('INSERT INTO "Album" ("AlbumId", "Title", "ArtistId", "Price", rating, '
                       f'status, mood, released) VALUES ({values})')
        tx.execute(f'INSERT INTO "{names["playlist"]}" ({playlist_key}, "AlbumId", "Position") '
                   "VALUES (1, 1, 1), (1, 2, 2), (2, 3, 1)")
        tx.execute(f'INSERT INTO "Sale" ({playlist_key}, "AlbumId", amount) '
                   "VALUES (1, 1, 10), (2, 3, 5)")
        if backend == "postgresql":
            tx.execute("REFRESH MATERIALIZED VIEW album_counts")
    return names
