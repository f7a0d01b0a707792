/**
 * Each registry's push notification, validated and reduced to ImagePushed. Every reference is
 * checked against the OCI grammar here, before anything can match or be stored: a payload with a
 * malformed reference is an error, not a push with the bad part dropped.
 */
import { z } from 'zod';
import { formatIssues } from '../model/issues.js';
import {
  canonicalRepository,
  parseImageReference,
  validateImage,
  type ImagePushed,
} from '../model/images.js';
import { err, ok, type Result } from '../result.js';

export interface Pushes {
  pushes: ImagePushed[];
  /** Why nothing is pushed, when the event is acknowledged but is not a push. */
  ignored?: string;
}
export type Parsed = Result<Pushes>;

const ignore = (reason: string): Parsed => ok({ pushes: [], ignored: reason });

/** Every push valid, or the first reason one is not. */
function validated(pushes: ImagePushed[]): Parsed {
  for (const push of pushes) {
    const valid = validateImage(push);
    if (!valid.ok) return err(valid.error);
  }
  return ok({ pushes });
}

const withParts = (tag: string | undefined, digest: string | undefined) => ({
  ...(tag !== undefined ? { tag } : {}),
  ...(digest !== undefined ? { digest } : {}),
});

const githubVersion = z.object({
  version: z.string().optional(),
  name: z.string().optional(),
  container_metadata: z
    .object({ tag: z.object({ name: z.string().optional(), digest: z.string().optional() }).nullish() })
    .nullish(),
  package_url: z.string().optional(),
});
const githubPackage = z.object({
  name: z.string().min(1),
  package_type: z.string(),
  owner: z.object({ login: z.string().min(1) }),
  package_version: githubVersion.nullish(),
  registry: z.object({ url: z.string().optional(), host: z.string().optional() }).nullish(),
});
const githubEvent = z.object({
  action: z.string(),
  package: githubPackage.optional(),
  registry_package: githubPackage.optional(),
});
const DIGEST_LIKE = /^sha(?:256|512):/;

/** GitHub `package` and `registry_package` events for container packages (GHCR). */
export function parseGithub(event: string | undefined, body: unknown): Parsed {
  if (event === 'ping') return ignore('ping');
  if (event !== 'package' && event !== 'registry_package') {
    return err(
      `X-GitHub-Event must be package or registry_package, found '${(event ?? '(none)').slice(0, 64)}'`,
    );
  }
  const parsed = githubEvent.safeParse(body);
  if (!parsed.success) return err(`not a GitHub ${event} event: ${formatIssues(parsed.error, '(body)')}`);
  const pkg = parsed.data.package ?? parsed.data.registry_package;
  if (!pkg) return err(`a GitHub ${event} event needs a '${event}' object`);
  if (parsed.data.action !== 'published' && parsed.data.action !== 'updated')
    return ignore(`action '${parsed.data.action.slice(0, 64)}' is not a push`);
  if (!['container', 'docker'].includes(pkg.package_type.toLowerCase()))
    return ignore(`package type '${pkg.package_type.slice(0, 64)}' is not a container image`);
  const version = pkg.package_version;
  const tag = version?.container_metadata?.tag?.name || undefined;
  // The digest is in the tag metadata, or is the version's own name for container packages.
  const digest = [version?.container_metadata?.tag?.digest, version?.version, version?.name].find(
    (value): value is string => typeof value === 'string' && DIGEST_LIKE.test(value),
  );
  if (!tag && !digest) return err('the package version has neither a tag nor a digest');
  // GHCR names an image by its owner and the package name; `namespace` is sometimes the owner, and
  // sometimes the source repository (owner/repo), which is not part of the image's name.
  return validated([
    { ...canonicalRepository(`ghcr.io/${pkg.owner.login}/${pkg.name}`), ...withParts(tag, digest) },
  ]);
}

const harborData = z.object({
  resources: z
    .array(
      z.object({
        digest: z.string().optional(),
        tag: z.string().optional(),
        resource_url: z.string().min(1),
      }),
    )
    .min(1)
    .max(100),
  repository: z.object({ repo_full_name: z.string().min(1) }),
});
/** Harbor's "Default" payload format. */
const harborDefault = z.object({ type: z.string(), event_data: z.unknown() });
/** Harbor's "CloudEvents" payload format (structured mode): the same data under `data`. */
const harborCloudEvent = z.object({ specversion: z.string(), type: z.string(), data: z.unknown() });

function harborEnvelope(body: unknown): Result<{ type: string; push: string; data: unknown; at: string }> {
  const cloudEvent = harborCloudEvent.safeParse(body);
  if (cloudEvent.success) return ok({ ...cloudEvent.data, push: 'harbor.artifact.pushed', at: 'data' });
  const original = harborDefault.safeParse(body);
  if (original.success)
    return ok({
      type: original.data.type,
      data: original.data.event_data,
      push: 'PUSH_ARTIFACT',
      at: 'event_data',
    });
  return err(
    `not a Harbor webhook event (Default or CloudEvents format): ${formatIssues(original.error, '(body)')}`,
  );
}

/**
 * Harbor's artifact pushes, in either payload format (other event types are acknowledged and
 * ignored). The registry is the host of each resource_url: the caller binds it to the configured
 * Harbor hosts. A tag equal to the digest is Harbor's way of saying the push had no tag.
 */
export function parseHarbor(body: unknown): Parsed {
  const envelope = harborEnvelope(body);
  if (!envelope.ok) return envelope;
  const { type, push, data, at } = envelope.value;
  if (type !== push) return ignore(`event type '${type.slice(0, 64)}' is not a push`);
  const parsed = harborData.safeParse(data);
  if (!parsed.success) return err(`not a Harbor push: ${formatIssues(parsed.error, at)}`);
  const pushes = parsed.data.resources.map((resource) => {
    const host = resource.resource_url.split('/')[0] as string;
    const tag = resource.tag && resource.tag !== resource.digest ? resource.tag : undefined;
    return {
      registry: host.toLowerCase(),
      repository: parsed.data.repository.repo_full_name.toLowerCase(),
      ...withParts(tag, resource.digest || undefined),
    };
  });
  return validated(pushes);
}

const dockerHubEvent = z.object({
  push_data: z.object({ tag: z.string().min(1) }),
  repository: z.object({ repo_name: z.string().min(1) }),
});

/** Docker Hub sends no digest: the tag is rolled out as pushed. */
export function parseDockerHub(body: unknown): Parsed {
  const parsed = dockerHubEvent.safeParse(body);
  if (!parsed.success) return err(`not a Docker Hub webhook: ${formatIssues(parsed.error, '(body)')}`);
  return validated([
    { ...canonicalRepository(parsed.data.repository.repo_name), tag: parsed.data.push_data.tag },
  ]);
}

const genericEvent = z.object({
  image: z.string().min(1).max(512),
  tag: z.string().max(128).optional(),
  digest: z.string().max(135).optional(),
});

/** `{image, tag?, digest?}` from CI systems; `image` may carry the tag and digest itself. */
export function parseGeneric(body: unknown): Parsed {
  const parsed = genericEvent.safeParse(body);
  if (!parsed.success) return err(`expected {image, tag?, digest?}: ${formatIssues(parsed.error, '(body)')}`);
  const reference = parseImageReference(parsed.data.image);
  if (!reference.ok) return err(`image: ${reference.error}`);
  const tag = parsed.data.tag ?? reference.value.tag;
  const digest = parsed.data.digest ?? reference.value.digest;
  if (!tag && !digest) return err('image: give a tag or a digest to roll out');
  return validated([
    { registry: reference.value.registry, repository: reference.value.repository, ...withParts(tag, digest) },
  ]);
}

const ecrEvent = z.object({
  source: z.literal('aws.ecr'),
  'detail-type': z.literal('ECR Image Action'),
  account: z.string().regex(/^\d{12}$/),
  region: z.string().regex(/^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/),
  detail: z.object({
    'action-type': z.string(),
    result: z.string(),
    'repository-name': z.string().min(1).max(256),
    'image-digest': z.string().optional(),
    'image-tag': z.string().optional(),
  }),
});

/** The registry host of an account's private ECR registry in a region. */
export function ecrRegistry(account: string, region: string): string {
  return `${account}.dkr.ecr.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`;
}

/** EventBridge "ECR Image Action": successful pushes only; the image is named by its full ECR URI. */
export function parseEcr(event: unknown): Parsed {
  const parsed = ecrEvent.safeParse(event);
  if (!parsed.success) return err(`not an ECR Image Action event: ${formatIssues(parsed.error, '(event)')}`);
  const { account, region, detail } = parsed.data;
  if (detail['action-type'] !== 'PUSH' || detail.result !== 'SUCCESS')
    return ignore(
      `${detail['action-type'].slice(0, 32)} ${detail.result.slice(0, 32)} is not a successful push`,
    );
  const digest = detail['image-digest'] || undefined;
  const tag = detail['image-tag'] || undefined;
  if (!digest && !tag) return err('the ECR event has neither an image digest nor a tag');
  return validated([
    {
      registry: ecrRegistry(account, region),
      repository: detail['repository-name'],
      ...withParts(tag, digest),
    },
  ]);
}
