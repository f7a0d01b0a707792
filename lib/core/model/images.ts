/**
 * Image references: the OCI distribution grammar (the one place it is written down) and the
 * canonical form registries and Kubernetes read: `nginx` is docker.io/library/nginx, `user/app` is
 * docker.io/user/app, and a first segment with a dot, a colon or `localhost` is a registry.
 */
import { err, ok, type Result } from '../result.js';

export interface ImagePushed {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

const DOCKER_HUB = 'docker.io';
/** distribution/reference's NameTotalLengthMax: registry host and repository path together. */
export const MAX_NAME_LENGTH = 255;

// Each pattern is tested only on a string already bounded in length, and none of them can
// backtrack more than linearly: separators and components share no character.
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
/** Only the algorithms registries use, with exactly their length, lowercase as the spec requires. */
const DIGEST = /^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const REPOSITORY_PATH = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const REGISTRY_HOST = new RegExp(
  `^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]{1,5})?$`,
);

export function isDigest(value: string): boolean {
  return value.length <= 7 + 128 && DIGEST.test(value);
}

export function isTag(value: string): boolean {
  return TAG.test(value);
}

export function isRegistryHost(value: string): boolean {
  return value.length <= MAX_NAME_LENGTH && REGISTRY_HOST.test(value);
}

export function isRepositoryPath(value: string): boolean {
  return value.length <= MAX_NAME_LENGTH && REPOSITORY_PATH.test(value);
}

/** Why a reference is not one a registry could serve, before anything is stored or matched. */
export function validateImage(image: ImagePushed): Result<ImagePushed> {
  const name = `${image.registry}/${image.repository}`;
  const shown = name.length > 80 ? `${name.slice(0, 80)}…` : name;
  if (name.length > MAX_NAME_LENGTH)
    return err(`image name '${shown}' is ${name.length} characters; the limit is ${MAX_NAME_LENGTH}`);
  if (!isRegistryHost(image.registry))
    return err(`registry '${image.registry}' is not a host name with an optional :port`);
  if (!isRepositoryPath(image.repository))
    return err(
      `repository '${image.repository}' is not a repository path: lowercase letters and digits, separated by '.', '_', '__', '-' or '/'`,
    );
  if (image.tag !== undefined && !isTag(image.tag))
    return err(
      `tag '${image.tag.slice(0, 140)}' is not a tag: up to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'`,
    );
  if (image.digest !== undefined && !isDigest(image.digest))
    return err(
      `digest '${image.digest.slice(0, 140)}' is not sha256: and 64 lowercase hex digits (or sha512: and 128)`,
    );
  return ok(image);
}

/** Why a trigger's repository (no tag, no digest) names nothing a push could match, or undefined. */
export function repositoryProblem(reference: string): string | undefined {
  const repository = canonicalRepository(reference);
  const named = validateImage(repository);
  if (named.ok) return undefined;
  return /[:@]/.test(repository.repository)
    ? `'${reference.slice(0, 80)}' must name the repository only, without a tag or digest (tagPattern selects tags)`
    : named.error;
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

/** Splits `registry/repo:tag@digest` into its parts, canonical and checked against the grammar. */
export function parseImageReference(reference: string): Result<ImagePushed> {
  let rest = reference.trim();
  if (rest.length > MAX_NAME_LENGTH + 1 + 128 + 1 + 7 + 128)
    return err(`'${rest.slice(0, 80)}…' is ${rest.length} characters, longer than any image reference`);
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  return validateImage({
    ...canonicalRepository(rest),
    ...(tag !== undefined ? { tag } : {}),
    ...(digest !== undefined ? { digest } : {}),
  });
}

/** The image a Deployment should run: pinned by digest where the registry gave one. */
export function imageFor(push: ImagePushed): string {
  const name =
    push.registry === DOCKER_HUB
      ? push.repository.replace(/^library\//, '')
      : `${push.registry}/${push.repository}`;
  return `${name}${push.tag ? `:${push.tag}` : ''}${push.digest ? `@${push.digest}` : ''}`;
}
