-- Every change to a subscription row moves its version; a writer names the
-- version it read and its update applies only if nobody changed the row in
-- between (store: subscription_save). So a cancellation and a billing run,
-- or two billing runs, or a webhook, cannot overwrite each other's change.
ALTER TABLE subscriptions ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
