/**
 * Webhook authentication: HMAC-SHA256 signatures over the exact raw body, and shared secrets,
 * compared in constant time. The generic endpoint signs a timestamp with the body, as Slack and
 * Stripe do, so a captured request cannot be replayed later.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { err, ok, type Result } from '../result.js';

/** How far a generic delivery's timestamp may be from the receiver's clock. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

export function hmacSha256Hex(secret: string, body: Buffer): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

export function sha256Hex(body: Buffer): string {
  return createHash('sha256').update(body).digest('hex');
}

/** `sha256=<hex>` as GitHub sends it in X-Hub-Signature-256. */
export function verifySignature(secret: string, body: Buffer, header: string | undefined): boolean {
  if (!secret || !header?.startsWith('sha256=')) return false;
  return constantTimeEqual(`sha256=${hmacSha256Hex(secret, body)}`, header);
}

/** What the generic endpoint signs: `<timestamp>.<raw body>`. */
export function genericSignedPayload(timestamp: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${timestamp}.`), body]);
}

/** The headers a sender (CI, the demo, the benchmark) puts on a generic delivery. */
export function signGeneric(
  secret: string,
  body: Buffer,
  nowSeconds: number,
): { 'x-signature-timestamp': string; 'x-signature-256': string } {
  const timestamp = String(Math.floor(nowSeconds));
  return {
    'x-signature-timestamp': timestamp,
    'x-signature-256': `sha256=${hmacSha256Hex(secret, genericSignedPayload(timestamp, body))}`,
  };
}

/**
 * X-Signature-Timestamp and X-Signature-256 checked against the key and the clock. The signature is
 * checked before the window, so only a holder of the key learns that its clock is off.
 */
export function verifyGenericSignature(
  secret: string,
  body: Buffer,
  headers: Record<string, string | undefined>,
  nowSeconds: number,
): Result<void> {
  const timestamp = headers['x-signature-timestamp'];
  if (timestamp === undefined || !/^[0-9]{1,12}$/.test(timestamp))
    return err('missing or malformed X-Signature-Timestamp: give the Unix time in seconds');
  if (!verifySignature(secret, genericSignedPayload(timestamp, body), headers['x-signature-256']))
    return err('missing or wrong X-Signature-256: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">');
  const skew = Math.abs(nowSeconds - Number(timestamp));
  if (skew > SIGNATURE_TOLERANCE_SECONDS)
    return err(
      `X-Signature-Timestamp is ${Math.round(skew)} s from the receiver's clock; the limit is ${SIGNATURE_TOLERANCE_SECONDS} s (sign each delivery when sending it)`,
    );
  return ok(undefined);
}

export function constantTimeEqual(expected: string, given: string | undefined): boolean {
  if (!expected || given === undefined) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  // Compare equal-length buffers so the time does not tell the length either.
  const padded = Buffer.alloc(a.length);
  b.copy(padded, 0, 0, Math.min(a.length, b.length));
  return timingSafeEqual(a, padded) && a.length === b.length;
}
