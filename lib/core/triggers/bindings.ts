/**
 * What each sender may claim. A webhook secret proves who sent a push, not which registry the image
 * is in: Docker Hub's URL token (the weakest secret) must not start canaries of GHCR or ECR images.
 */
import { isRegistryHost, type ImagePushed } from '../model/images.js';
import { err, ok, type Result } from '../result.js';
import { ecrRegistry } from './payloads.js';

export type Provider = 'github' | 'harbor' | 'dockerhub' | 'generic' | 'ecr';

export interface Bindings {
  /** The Harbor registries' hosts (HARBOR_HOSTS): Harbor's payload names its host, it does not prove it. */
  harborHosts: readonly string[];
  /** This deployment's account and region: ECR pushes of other registries are not ours to roll out. */
  ecr?: { account: string; region: string };
}

const FIXED: Partial<Record<Provider, string>> = { dockerhub: 'docker.io', github: 'ghcr.io' };

/** The registries a provider may name; `undefined` is any (the generic endpoint's key is ours). */
function allowed(provider: Provider, bindings: Bindings): readonly string[] | undefined {
  if (provider === 'generic') return undefined;
  if (provider === 'harbor') return bindings.harborHosts;
  if (provider === 'ecr') return bindings.ecr ? [ecrRegistry(bindings.ecr.account, bindings.ecr.region)] : [];
  return [FIXED[provider] as string];
}

/** The pushes the provider may claim, and a reason for each it may not. */
export function bindPushes(
  provider: Provider,
  pushes: readonly ImagePushed[],
  bindings: Bindings,
): { claimed: ImagePushed[]; refused: string[] } {
  const registries = allowed(provider, bindings);
  const claimed: ImagePushed[] = [];
  const refused: string[] = [];
  for (const push of pushes) {
    if (registries === undefined || registries.includes(push.registry)) claimed.push(push);
    else
      refused.push(
        `${provider} may only push images of ${registries.length ? registries.join(', ') : '(no registry configured)'}, not ${push.registry}/${push.repository}`,
      );
  }
  return { claimed, refused };
}

/** HARBOR_HOSTS: comma-separated registry hosts (with :port where Harbor is served on one). */
export function parseHarborHosts(text: string | undefined): Result<string[]> {
  const hosts = (text ?? '')
    .split(',')
    .map((host) => host.trim().toLowerCase())
    .filter(Boolean);
  const bad = hosts.filter((host) => !isRegistryHost(host));
  if (bad.length)
    return err(`HARBOR_HOSTS: ${bad.map((h) => `'${h}'`).join(', ')} not a host name with an optional :port`);
  return ok(hosts);
}
