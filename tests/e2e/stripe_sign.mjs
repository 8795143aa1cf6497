// stripe_sign.mjs: prints a Stripe-Signature header for a payload file,
// made by Stripe's own library, so the tests check masthead against
// Stripe's idea of a signature rather than against masthead's own.
//
//   node tests/e2e/stripe_sign.mjs PAYLOAD_FILE SECRET [TIMESTAMP]
//
// TIMESTAMP (Unix seconds) defaults to now. The payload is signed byte for
// byte as it is in the file: post exactly those bytes.
import { readFileSync } from "node:fs";
import Stripe from "stripe";

const [file, secret, timestamp] = process.argv.slice(2);
if (!file || !secret) {
  console.error("usage: node stripe_sign.mjs PAYLOAD_FILE SECRET [TIMESTAMP]");
  process.exit(2);
}
if (timestamp !== undefined && !/^\d+$/.test(timestamp)) {
  console.error("stripe_sign.mjs: TIMESTAMP must be Unix seconds");
  process.exit(2);
}
// No API call is made: the key only satisfies the constructor.
const stripe = new Stripe("sk_test_unused");
const payload = readFileSync(file, "utf8");
const opts = { payload, secret };
if (timestamp !== undefined) opts.timestamp = Number(timestamp);
process.stdout.write(stripe.webhooks.generateTestHeaderString(opts) + "\n");
