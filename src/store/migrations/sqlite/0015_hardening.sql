-- Hardening (docs/security.md, "Findings fixed").
--
-- A password chosen at sign-up waits with the link mailed to confirm the
-- address, and becomes the account's only when that very link is used: a
-- password set by whoever typed someone else's address into the sign-up
-- form never works, and confirming an address ends every credential the
-- account had before.
ALTER TABLE auth_tokens ADD COLUMN password_hash TEXT NOT NULL DEFAULT '';

-- Staff accounts are made by the operator (masthead user add, role): their
-- addresses count as confirmed, so they keep signing in by password.
UPDATE members SET email_verified = 1 WHERE role IN ('editor', 'admin');
