/** How a zod failure reads to a user: each problem with its field path, in one line. */
import type { z } from 'zod';

export function formatIssues(error: z.ZodError, root = '(root)'): string {
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

export function issueMessage(issue: z.core.$ZodIssue): string {
  return issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message;
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, segment) => {
    if (typeof segment === 'number') return `${out}[${segment}]`;
    return out ? `${out}.${String(segment)}` : String(segment);
  }, '');
}
