-- Author profiles (docs/import.md, "Author profiles"): a short bio in plain
-- text and a photo with its alt text, shown in bylines and on the author's
-- page. An author made by an article's authors: list has none ("").
ALTER TABLE authors ADD COLUMN bio TEXT NOT NULL DEFAULT '';
ALTER TABLE authors ADD COLUMN photo TEXT NOT NULL DEFAULT '';
ALTER TABLE authors ADD COLUMN photo_alt TEXT NOT NULL DEFAULT '';
