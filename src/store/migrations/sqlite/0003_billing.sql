-- Plans, cards on file, subscriptions, invoices and their charges, provider
-- events, checkouts; and what the paywall keeps: gift links and meters.

CREATE TABLE plans (
	id INTEGER PRIMARY KEY,
	code TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL,
	amount BIGINT NOT NULL CHECK (amount >= 0),
	currency TEXT NOT NULL,
	interval_months INTEGER NOT NULL CHECK (interval_months > 0),
	trial_days INTEGER NOT NULL DEFAULT 0,
	retired INTEGER NOT NULL DEFAULT 0,
	provider_price_id TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL
);

-- Brand, last four and expiry only: never a card number or a CVC.
CREATE TABLE payment_methods (
	id INTEGER PRIMARY KEY,
	member_id INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
	brand TEXT NOT NULL,
	last4 TEXT NOT NULL,
	exp_month INTEGER NOT NULL,
	exp_year INTEGER NOT NULL,
	behavior TEXT NOT NULL DEFAULT 'ok',
	provider_id TEXT NOT NULL DEFAULT '',
	is_default INTEGER NOT NULL DEFAULT 0,
	expiry_reminded INTEGER NOT NULL DEFAULT 0,
	created_at BIGINT NOT NULL
);
CREATE INDEX payment_methods_member ON payment_methods (member_id, is_default);

CREATE TABLE subscriptions (
	id INTEGER PRIMARY KEY,
	member_id INTEGER NOT NULL UNIQUE REFERENCES members (id) ON DELETE CASCADE,
	plan_id INTEGER NOT NULL REFERENCES plans (id),
	status TEXT NOT NULL,
	period_start BIGINT NOT NULL,
	period_end BIGINT NOT NULL,
	trial_end BIGINT NOT NULL DEFAULT 0,
	grace_until BIGINT NOT NULL DEFAULT 0,
	cancel_at_period_end INTEGER NOT NULL DEFAULT 0,
	canceled_at BIGINT NOT NULL DEFAULT 0,
	trial_reminded INTEGER NOT NULL DEFAULT 0,
	provider TEXT NOT NULL DEFAULT 'test',
	provider_id TEXT NOT NULL DEFAULT '',
	provider_customer TEXT NOT NULL DEFAULT '',
	provider_updated BIGINT NOT NULL DEFAULT 0,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE INDEX subscriptions_due ON subscriptions (status, period_end);

CREATE TABLE invoices (
	id INTEGER PRIMARY KEY,
	subscription_id INTEGER NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
	amount BIGINT NOT NULL,
	currency TEXT NOT NULL,
	status TEXT NOT NULL CHECK (status IN ('open', 'paid', 'uncollectible', 'void')),
	period_start BIGINT NOT NULL,
	period_end BIGINT NOT NULL,
	attempts INTEGER NOT NULL DEFAULT 0,
	next_attempt_at BIGINT NOT NULL DEFAULT 0,
	claimed_until BIGINT NOT NULL DEFAULT 0,
	idempotency_key TEXT NOT NULL UNIQUE,
	provider_id TEXT NOT NULL DEFAULT '',
	paid_at BIGINT NOT NULL DEFAULT 0,
	created_at BIGINT NOT NULL
);
CREATE INDEX invoices_due ON invoices (status, next_attempt_at);
CREATE INDEX invoices_subscription ON invoices (subscription_id, created_at);

-- Every charge attempt is written (pending) before the provider is asked,
-- under a key the provider deduplicates on, so a crash in between neither
-- charges twice nor loses the payment.
CREATE TABLE charges (
	id INTEGER PRIMARY KEY,
	invoice_id INTEGER NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
	idempotency_key TEXT NOT NULL UNIQUE,
	payment_method_id INTEGER NOT NULL DEFAULT 0,
	status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
	failure_code TEXT NOT NULL DEFAULT '',
	failure_message TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL,
	finished_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX charges_pending ON charges (status);

CREATE TABLE billing_events (
	provider TEXT NOT NULL,
	event_id TEXT NOT NULL,
	type TEXT NOT NULL,
	created BIGINT NOT NULL,
	received_at BIGINT NOT NULL,
	PRIMARY KEY (provider, event_id)
);

-- The test provider's checkout pages.
CREATE TABLE checkouts (
	token_hash TEXT PRIMARY KEY,
	member_id INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
	plan_id INTEGER NOT NULL DEFAULT 0,
	purpose TEXT NOT NULL CHECK (purpose IN ('subscribe', 'card')),
	status TEXT NOT NULL DEFAULT 'open',
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
);

CREATE TABLE gift_links (
	id INTEGER PRIMARY KEY,
	token_hash TEXT NOT NULL UNIQUE,
	member_id INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
	article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
	max_uses INTEGER NOT NULL,
	uses INTEGER NOT NULL DEFAULT 0,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	revoked_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX gift_links_member ON gift_links (member_id);

-- Paid articles a free member read in a calendar month (YYYY-MM).
CREATE TABLE meter_reads (
	member_id INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
	month TEXT NOT NULL,
	article_id INTEGER NOT NULL,
	read_at BIGINT NOT NULL,
	PRIMARY KEY (member_id, month, article_id)
);

-- The built-in test provider's own ledger: what it charged, by the
-- idempotency key masthead sent, as a real provider would remember it.
CREATE TABLE test_provider_charges (
	idempotency_key TEXT PRIMARY KEY,
	amount BIGINT NOT NULL,
	outcome TEXT NOT NULL,
	created_at BIGINT NOT NULL
);
