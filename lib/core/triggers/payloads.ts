/** Each registry's push notification, validated and reduced to ImagePushed. */
import { z } from 'zod';
import { canonicalRepository, isDigest, parseImageReference, type ImagePushed } from '../model/images.js';

export type Parsed =
  { ok: true; pushes: ImagePushed[]; ignored?: string; deliveryId?: string } | { ok: false; message: string };

const issues = (error: z.ZodError) =>
  error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');

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
  namespace: z.string().optional(),
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

/** GitHub `package` and `registry_package` events for container packages (GHCR). */
export function parseGithub(event: string | undefined, body: unknown): Parsed {
  if (event === 'ping') return { ok: true, pushes: [], ignored: 'ping' };
  if (event !== 'package' && event !== 'registry_package') {
    return {
      ok: false,
      message: `X-GitHub-Event must be package or registry_package, found '${event ?? '(none)'}'`,
    };
  }
  const parsed = githubEvent.safeParse(body);
  if (!parsed.success) return { ok: false, message: `not a GitHub ${event} event: ${issues(parsed.error)}` };
  const pkg = parsed.data.package ?? parsed.data.registry_package;
  if (!pkg) return { ok: false, message: `a GitHub ${event} event needs a '${event}' object` };
  if (parsed.data.action !== 'published' && parsed.data.action !== 'updated') {
    return { ok: true, pushes: [], ignored: `action '${parsed.data.action}' is not a push` };
  }
  if (!['container', 'docker'].includes(pkg.package_type.toLowerCase())) {
    return { ok: true, pushes: [], ignored: `package type '${pkg.package_type}' is not a container image` };
  }
  const version = pkg.package_version;
  const tag = version?.container_metadata?.tag?.name || undefined;
  const digestCandidates = [version?.container_metadata?.tag?.digest, version?.version, version?.name];
  const digest = digestCandidates.find(
    (value): value is string => typeof value === 'string' && isDigest(value),
  );
  const owner = (pkg.namespace || pkg.owner.login).toLowerCase();
  const { registry, repository } = canonicalRepository(`ghcr.io/${owner}/${pkg.name}`);
  if (!tag && !digest) return { ok: false, message: 'the package version has neither a tag nor a digest' };
  return {
    ok: true,
    pushes: [{ registry, repository, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) }],
  };
}

const harborEvent = z.object({
  type: z.string(),
  event_data: z.object({
    resources: z
      .array(
        z.object({
          digest: z.string().optional(),
          tag: z.string().optional(),
          resource_url: z.string().min(1),
        }),
      )
      .min(1),
    repository: z.object({ repo_full_name: z.string().min(1) }),
  }),
});

/** Harbor's PUSH_ARTIFACT (other event types are acknowledged and ignored). */
export function parseHarbor(body: unknown): Parsed {
  const parsed = harborEvent.safeParse(body);
  if (!parsed.success) return { ok: false, message: `not a Harbor webhook event: ${issues(parsed.error)}` };
  if (parsed.data.type !== 'PUSH_ARTIFACT')
    return { ok: true, pushes: [], ignored: `event type '${parsed.data.type}' is not a push` };
  const pushes: ImagePushed[] = [];
  for (const resource of parsed.data.event_data.resources) {
    const host = resource.resource_url.split('/')[0] as string;
    const { registry, repository } = canonicalRepository(
      `${host}/${parsed.data.event_data.repository.repo_full_name}`,
    );
    const digest = resource.digest && isDigest(resource.digest) ? resource.digest : undefined;
    pushes.push({
      registry,
      repository,
      ...(resource.tag ? { tag: resource.tag } : {}),
      ...(digest ? { digest } : {}),
    });
  }
  return { ok: true, pushes };
}

const dockerHubEvent = z.object({
  push_data: z.object({ tag: z.string().min(1), pushed_at: z.number().optional() }),
  repository: z.object({ repo_name: z.string().min(1) }),
});

/** Docker Hub sends no digest: the tag is rolled out as pushed. */
export function parseDockerHub(body: unknown): Parsed {
  const parsed = dockerHubEvent.safeParse(body);
  if (!parsed.success) return { ok: false, message: `not a Docker Hub webhook: ${issues(parsed.error)}` };
  const { repo_name } = parsed.data.repository;
  const { tag, pushed_at } = parsed.data.push_data;
  return {
    ok: true,
    pushes: [{ ...canonicalRepository(repo_name), tag }],
    ...(pushed_at === undefined ? {} : { deliveryId: `dockerhub:${repo_name}:${tag}:${pushed_at}` }),
  };
}

const genericEvent = z.object({
  image: z.string().min(1).max(512),
  tag: z.string().optional(),
  digest: z.string().optional(),
});

/** `{image, tag?, digest?}` from CI systems; `image` may carry the tag and digest itself. */
export function parseGeneric(body: unknown): Parsed {
  const parsed = genericEvent.safeParse(body);
  if (!parsed.success)
    return { ok: false, message: `expected {image, tag?, digest?}: ${issues(parsed.error)}` };
  const reference = parseImageReference(parsed.data.image);
  if (!reference) return { ok: false, message: `image: '${parsed.data.image}' is not an image reference` };
  const tag = parsed.data.tag ?? reference.tag;
  const digest = parsed.data.digest ?? reference.digest;
  if (tag !== undefined && !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag))
    return { ok: false, message: `tag: '${tag}' is not a valid tag` };
  if (digest !== undefined && !isDigest(digest))
    return { ok: false, message: `digest: '${digest}' is not a digest such as sha256:<hex>` };
  if (!tag && !digest) return { ok: false, message: 'image: give a tag or a digest to roll out' };
  return {
    ok: true,
    pushes: [
      {
        registry: reference.registry,
        repository: reference.repository,
        ...(tag ? { tag } : {}),
        ...(digest ? { digest } : {}),
      },
    ],
  };
}

const ecrEvent = z.object({
  source: z.literal('aws.ecr'),
  'detail-type': z.literal('ECR Image Action'),
  account: z.string().regex(/^\d{12}$/),
  region: z.string().min(1),
  detail: z.object({
    'action-type': z.string(),
    result: z.string(),
    'repository-name': z.string().min(1),
    'image-digest': z.string().optional(),
    'image-tag': z.string().optional(),
  }),
});

/** EventBridge "ECR Image Action": successful pushes only; the image is named by its full ECR URI. */
export function parseEcr(event: unknown): Parsed {
  const parsed = ecrEvent.safeParse(event);
  if (!parsed.success)
    return { ok: false, message: `not an ECR Image Action event: ${issues(parsed.error)}` };
  const { account, region, detail } = parsed.data;
  if (detail['action-type'] !== 'PUSH' || detail.result !== 'SUCCESS') {
    return {
      ok: true,
      pushes: [],
      ignored: `${detail['action-type']} ${detail.result} is not a successful push`,
    };
  }
  const digest =
    detail['image-digest'] && isDigest(detail['image-digest']) ? detail['image-digest'] : undefined;
  const tag = detail['image-tag'] || undefined;
  if (!digest && !tag) return { ok: false, message: 'the ECR event has neither an image digest nor a tag' };
  return {
    ok: true,
    pushes: [
      {
        registry: `${account}.dkr.ecr.${region}.amazonaws.com`,
        repository: detail['repository-name'],
        ...(tag ? { tag } : {}),
        ...(digest ? { digest } : {}),
      },
    ],
  };
}
