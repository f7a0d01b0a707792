/**
 * Image references as registries and Kubernetes read them: `nginx` is docker.io/library/nginx,
 * `user/app` is docker.io/user/app, and a first segment with a dot, a colon or `localhost` is a registry.
 */
export interface ImagePushed {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

const DOCKER_HUB = 'docker.io';
const DIGEST_PATTERN = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-fA-F0-9]{32,}$/;
const TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

export function isDigest(value: string): boolean {
  return DIGEST_PATTERN.test(value);
}

export function isTag(value: string): boolean {
  return TAG_PATTERN.test(value);
}

/** `registry/repository` in canonical form, for matching. */
export function canonicalRepository(reference: string): { registry: string; repository: string } {
  const trimmed = reference.trim().replace(/^[a-z]+:\/\//, '');
  const parts = trimmed.split('/');
  const first = parts[0] ?? '';
  const hasRegistry =
    parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost');
  const registry = hasRegistry ? first.toLowerCase() : DOCKER_HUB;
  let repository = (hasRegistry ? parts.slice(1) : parts).join('/').toLowerCase();
  if (registry === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`;
  return {
    registry: registry === 'index.docker.io' || registry === 'registry-1.docker.io' ? DOCKER_HUB : registry,
    repository,
  };
}

/** Splits `registry/repo:tag@digest` into its parts. */
export function parseImageReference(reference: string): ImagePushed | undefined {
  let rest = reference.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isDigest(digest)) return undefined;
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!isTag(tag)) return undefined;
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9._:/-]*$/.test(rest)) return undefined;
  return { ...canonicalRepository(rest), ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** The image a Deployment should run: pinned by digest where the registry gave one. */
export function imageFor(push: ImagePushed): string {
  const name =
    push.registry === DOCKER_HUB
      ? push.repository.replace(/^library\//, '')
      : `${push.registry}/${push.repository}`;
  return `${name}${push.tag ? `:${push.tag}` : ''}${push.digest ? `@${push.digest}` : ''}`;
}
