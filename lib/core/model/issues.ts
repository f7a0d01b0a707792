/** How a zod failure reads to a user: each problem with its field path, in one line. */
import type { z } from 'zod';

export function formatIssues(error: z.ZodError, root = '(root)'): string {
  return error.issues.map((issue) => `${issue.path.join('.') || root}: ${issue.message}`).join('; ');
}
