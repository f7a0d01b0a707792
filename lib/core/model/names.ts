/**
 * Kubernetes object names as the API server checks them (DNS-1123): a namespace is a label, most
 * object names are subdomains. Checked at `apply`/`lint` so a bad name is a field error there, not
 * a 4xx from the cluster in the middle of a rollout.
 */
import { z } from 'zod';
import { labelProblem, subdomainProblem } from './dns-names.js';

export { LABEL_RULE, labelProblem, SUBDOMAIN_RULE, subdomainProblem } from './dns-names.js';

const refined = (problem: (value: string) => string | undefined) =>
  z.string().superRefine((value, ctx) => {
    const message = problem(value);
    if (message) ctx.addIssue({ code: 'custom', message });
  });

export const dnsLabel = refined(labelProblem);
export const dnsSubdomain = refined(subdomainProblem);
