-- "Most read this week" (docs/reading.md): reads of
-- each article by the hour, counted by the server itself (no cookie, no
-- third party), added to by every node. hour is unix time / 3600. Rows older
-- than 30 days are pruned as new ones are written. Not content: no trigger
-- moves the content version.
CREATE TABLE article_reads (
	article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
	hour INTEGER NOT NULL,
	reads INTEGER NOT NULL,
	PRIMARY KEY (article_id, hour)
);
CREATE INDEX article_reads_hour ON article_reads (hour);
