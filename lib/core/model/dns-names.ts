/**
 * Kubernetes object names as the API server checks them (DNS-1123): a namespace is a label, most
 * object names are subdomains. Checked at `apply`/`lint` so a bad name is a field error there, not
 * a 4xx from the cluster in the middle of a rollout. The rules alone, without a schema library:
 * names.ts holds them as zod schemas, clusters.ts as zod/mini ones.
 */

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const LABEL_RULE =
  'a DNS-1123 label: at most 63 lowercase letters, digits and -, starting and ending alphanumeric';
export const SUBDOMAIN_RULE =
  'a DNS-1123 subdomain: at most 253 lowercase letters, digits, - and ., each dot-separated part starting and ending alphanumeric';

/** Why `value` is not a DNS-1123 label, or undefined when it is one. */
export function labelProblem(value: string): string | undefined {
  return value.length <= 63 && LABEL.test(value) ? undefined : `'${value}' must be ${LABEL_RULE}`;
}

/** Why `value` is not a DNS-1123 subdomain, or undefined when it is one. */
export function subdomainProblem(value: string): string | undefined {
  return value.length <= 253 && SUBDOMAIN.test(value) ? undefined : `'${value}' must be ${SUBDOMAIN_RULE}`;
}
