// Writes that are stored once, however often they are sent (issue 10). Each write carries an
// Idempotency-Key; the server answers a repeat of a key with the first answer (same id, same
// edit link), so sending again after a lost connection or a 503 never makes a duplicate.
// Used by every form that creates something: the map's add flow, a process page, the co-op's
// roof offer and photo uploads.

import { el, inTime, request, t } from "./common.js";

const ATTEMPTS = 3; // the first try and two automatic retries
const FIRST_DELAY_S = 0.5; // doubled before each next retry
const MAX_AUTOMATIC_WAIT_S = 30; // a longer Retry-After is the resident's to wait for, not ours

/** A random v4 UUID. randomUUID needs a secure context; a demo served over plain http on a
 *  LAN address has only getRandomValues. */
function newIdempotencyKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  const parts = [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)];
  return parts.join("-");
}

/** Whether the same request, unchanged, may well succeed in a moment. */
const worthRetrying = (result) =>
  Boolean(result.networkError) || [502, 503, 504].includes(result.status);

/**
 * The key of one write. The same body keeps its key until the server has stored it, so the
 * server can tell a retry (after a lost answer, a 503, a 429, a refusal) from a new write; a
 * changed body is another write (the server refuses one key for two bodies), and so is
 * whatever is sent after a success.
 */
export class WriteKey {
  constructor() {
    this.key = null;
    this.fingerprint = null;
  }

  /** The key for a write whose body reads `fingerprint`. */
  for(fingerprint) {
    if (!this.key || fingerprint !== this.fingerprint) {
      this.key = newIdempotencyKey();
      this.fingerprint = fingerprint;
    }
    return this.key;
  }

  /** After the answer: once stored, the next write gets a new key. */
  settle(result) {
    if (!result.ok) return;
    this.key = null;
    this.fingerprint = null;
  }
}

/** Seconds before retry number `retry` (1, 2, …): doubling, a little jitter so that many
 *  residents cut off together do not all come back at once, never sooner than Retry-After. */
function delayBefore(retry, result) {
  const backoff = FIRST_DELAY_S * 2 ** (retry - 1) * (1 + Math.random() * 0.25);
  return Math.max(backoff, result.retryAfter ?? 0);
}

const sleep = (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

/**
 * Send a write (`body`: a JSON-able value or a Blob) with its Idempotency-Key; after a network
 * error or a 502/503/504, wait (backoff, honouring Retry-After) and send it again with the
 * same key, a few times. A 429 is never retried automatically. While waiting, `status` (a
 * role=status element) says so. Resolves with the last answer, as `request` gives it.
 */
export async function sendWrite(url, { body, writeKey, fingerprint, status, method = "POST", token }) {
  const idempotencyKey = writeKey.for(fingerprint ?? JSON.stringify(body));
  let result;
  let waited = false;
  for (let attempt = 1; ; attempt += 1) {
    result = await request(url, { method, body, token, idempotencyKey });
    if (attempt >= ATTEMPTS || !worthRetrying(result)) break;
    const wait = delayBefore(attempt, result);
    if (wait > MAX_AUTOMATIC_WAIT_S) break;
    if (status) status.textContent = t("send.retrying", { when: inTime(wait) });
    waited = true;
    await sleep(wait);
  }
  if (status && waited) status.textContent = "";
  writeKey.settle(result);
  return result;
}

/** An empty live region before `node` for sendWrite's "we try again" message. It exists from
 *  the start (a region added together with its text is often not read out). */
export function addSendStatus(node, id) {
  const status = el("p", { id, class: "send-status", role: "status", "aria-live": "polite" });
  node.before(status);
  return status;
}
