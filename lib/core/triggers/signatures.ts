/** Webhook authentication: HMAC-SHA256 signatures over the exact raw body, and shared secrets, compared in constant time. */
import { createHmac, timingSafeEqual } from 'node:crypto';

export function hmacSha256Hex(secret: string, body: Buffer): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

/** `sha256=<hex>` as GitHub sends it in X-Hub-Signature-256. */
export function verifySignature(secret: string, body: Buffer, header: string | undefined): boolean {
  if (!secret || !header?.startsWith('sha256=')) return false;
  return constantTimeEqual(`sha256=${hmacSha256Hex(secret, body)}`, header);
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
