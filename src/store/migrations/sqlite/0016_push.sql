-- One default card per member (the twin of postgres/0016, whose NOTIFY
-- triggers a single SQLite node does not need: it reads its own file).
-- SQLite's writers queue, so payment_method_add cannot race here; the
-- index holds the rule on both engines all the same. Sites that already
-- have two keep the newest.
UPDATE payment_methods SET is_default = 0
WHERE is_default = 1
  AND id NOT IN (SELECT max(id) FROM payment_methods WHERE is_default = 1 GROUP BY member_id);
CREATE UNIQUE INDEX payment_methods_one_default ON payment_methods (member_id) WHERE is_default = 1;
