-- The newsroom's image library (docs/newsroom.md, "Images"): one row per
-- uploaded file, keyed by its hash (the name of its files under
-- DATA/media), so uploading the same file again adds nothing.
CREATE TABLE media (
	hash TEXT PRIMARY KEY,
	type TEXT NOT NULL,
	width INTEGER NOT NULL,
	height INTEGER NOT NULL,
	bytes INTEGER NOT NULL,
	url TEXT NOT NULL,
	alt TEXT NOT NULL,
	filename TEXT NOT NULL,
	uploaded_by INTEGER REFERENCES members(id) ON DELETE SET NULL,
	created_at INTEGER NOT NULL
);
CREATE INDEX media_created ON media (created_at DESC, hash);
