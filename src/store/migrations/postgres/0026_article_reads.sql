-- "Most read this week": the twin of sqlite/0026.
CREATE TABLE article_reads (
	article_id BIGINT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
	hour BIGINT NOT NULL,
	reads BIGINT NOT NULL,
	PRIMARY KEY (article_id, hour)
);
CREATE INDEX article_reads_hour ON article_reads (hour);
