-- The newsroom's image library: the twin of sqlite/0024.
CREATE TABLE media (
	hash TEXT PRIMARY KEY,
	type TEXT NOT NULL,
	width INTEGER NOT NULL,
	height INTEGER NOT NULL,
	bytes BIGINT NOT NULL,
	url TEXT NOT NULL,
	alt TEXT NOT NULL,
	filename TEXT NOT NULL,
	uploaded_by BIGINT REFERENCES members(id) ON DELETE SET NULL,
	created_at BIGINT NOT NULL
);
CREATE INDEX media_created ON media (created_at DESC, hash);
