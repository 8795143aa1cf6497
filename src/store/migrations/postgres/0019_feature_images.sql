-- The reading site as a newspaper (docs/import.md): a story's feature
-- image, its alternative text, caption and credit, and whether the editors
-- marked it featured (the front page's lead is the newest featured story).
-- The image is an address: https://..., http://... or a path on this site.
ALTER TABLE articles ADD COLUMN featured INTEGER NOT NULL DEFAULT 0;
ALTER TABLE articles ADD COLUMN feature_image TEXT NOT NULL DEFAULT '';
ALTER TABLE articles ADD COLUMN feature_image_alt TEXT NOT NULL DEFAULT '';
ALTER TABLE articles ADD COLUMN feature_image_caption TEXT NOT NULL DEFAULT '';
ALTER TABLE articles ADD COLUMN feature_image_credit TEXT NOT NULL DEFAULT '';
