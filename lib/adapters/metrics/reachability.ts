/**
 * The runner lives outside the cluster (AWS Lambda, or a developer's machine in local mode), so a
 * metric address that only means something inside the cluster can never answer. Argo's templates
 * often carry such addresses (its controller runs in the cluster); say so instead of timing out.
 */
import { isIPv4 } from 'node:net';

const HOW_TO_REACH =
  'expose it through a load balancer the runner can reach, or use Amazon Managed Prometheus ' +
  '(https://aps-workspaces.<region>.amazonaws.com/workspaces/<id> with authentication.sigv4)';

/** Why `url` can never be reached from outside the cluster, or undefined when it might be. */
export function inClusterAddress(url: URL): string | undefined {
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  if (/\.svc$|\.svc\.cluster\.local$|\.cluster\.local$/.test(host))
    return `${url.origin} is a Kubernetes in-cluster name: the runner runs outside the cluster (AWS Lambda) and cannot resolve it; ${HOW_TO_REACH}`;
  return undefined;
}

/**
 * A hint to add to a failed connection: names that resolve only through the cluster's DNS
 * (`prometheus.istio-system`) and private addresses that may be cluster IPs.
 */
export function unreachableHint(url: URL, failure: string): string {
  if (failure.startsWith('host not found'))
    return `; if ${url.hostname} is a Kubernetes Service name (service.namespace), it resolves only inside the cluster: ${HOW_TO_REACH}`;
  const connectionFailure = /^(timed out|connection refused|no route to host)/.test(failure);
  if (connectionFailure && isPrivateIPv4(url.hostname))
    return `; ${url.hostname} is a private address: if it is a Kubernetes cluster IP, the runner (outside the cluster) cannot reach it: ${HOW_TO_REACH}`;
  return '';
}

function isPrivateIPv4(host: string): boolean {
  if (!isIPv4(host)) return false;
  const [a, b] = host.split('.').map(Number) as [number, number];
  return a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
}
