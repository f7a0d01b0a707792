/** What every provider block shares: parsing with one message format, and Argo's header list. */
import { z } from 'zod';
import { formatIssues } from '../../core/model/issues.js';
import { err, ok, type Result } from '../../core/result.js';
import { inClusterAddress } from './reachability.js';

/** Argo's `headers: [{key, value}]`. */
export const headersSchema = z.array(z.object({ key: z.string().min(1), value: z.string() }).strict());

export function headerRecord(headers: z.infer<typeof headersSchema> | undefined): Record<string, string> {
  return Object.fromEntries((headers ?? []).map(({ key, value }) => [key.toLowerCase(), value]));
}

/**
 * An absolute http:// or https:// URL that the runner can reach at all: not a Kubernetes
 * in-cluster name (the runner runs outside the cluster).
 */
export const reachableUrl = (field: string) =>
  z.string().superRefine((value, context) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      url = new URL('invalid:');
    }
    if (!['http:', 'https:'].includes(url.protocol))
      context.addIssue({ code: 'custom', message: `${field} must be an http:// or https:// URL` });
    else {
      const inCluster = inClusterAddress(url);
      if (inCluster) context.addIssue({ code: 'custom', message: inCluster });
    }
  });

/** A field Argo has that we do not: rejected with what to do instead, never silently ignored. */
export const unsupported = (what: string, instead: string) =>
  z
    .unknown()
    .refine(() => false, { message: `${what} is not supported: ${instead}` })
    .optional();

/** Validates `block[key]` so that messages name the field as a user wrote it (`prometheus.query: ...`). */
export function parseBlock<S extends z.ZodType>(
  key: string,
  schema: S,
  block: Record<string, unknown>,
): Result<z.infer<S>, string> {
  const parsed = z.object({ [key]: schema }).safeParse(block);
  if (!parsed.success) return err(`invalid ${key} provider: ${formatIssues(parsed.error)}`);
  return ok((parsed.data as Record<string, z.infer<S>>)[key] as z.infer<S>);
}

/** The measurement's timeout: the provider's own, cut short by the runner's budget. */
export function effectiveTimeoutMs(ownSeconds: number, budgetMs: number): number {
  return Math.min(ownSeconds * 1000, budgetMs);
}
