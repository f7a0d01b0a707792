/** How a zod failure reads to a user: each problem with its field path, in one line. */
import type { z } from 'zod';

/** Any zod failure, the full API's or zod/mini's. */
export function formatIssues(error: { issues: z.core.$ZodIssue[] }, root = '(root)'): string {
  return error.issues.map((issue) => `${issue.path.join('.') || root}: ${issue.message}`).join('; ');
}

/** The same problems one per line, paths as a user writes them (`spec.metrics[0].name`), for lint output. */
export function formatIssueList(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const path = formatPath(issue.path);
    const message = issueMessage(issue);
    return path ? `${path}: ${message}` : message;
  });
}

/**
 * A missing field reads "is required"; a field of the wrong type says what was expected and found.
 * (zod leaves `issue.input` out unless asked, so the message, not the input, tells them apart.)
 */
export function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code !== 'invalid_type') return issue.message;
  if (/received undefined$/.test(issue.message)) return 'is required';
  return issue.message.replace(/^Invalid input: /, '');
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, segment) => {
    if (typeof segment === 'number') return `${out}[${segment}]`;
    return out ? `${out}.${String(segment)}` : String(segment);
  }, '');
}
