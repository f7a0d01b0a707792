/**
 * The Rollout resource: Argo Rollouts' canary block (same names, same meaning) plus where the
 * workload lives. Parsing yields a normalised Rollout or every problem, each with its field path.
 */
import { z } from 'zod';
import { parseDurationSeconds } from './duration.js';
import { dnsLabel, dnsSubdomain, labelProblem, subdomainProblem } from './names.js';
import { formatRef, parseVirtualServiceRef, type ObjectRef } from './references.js';

export const API_VERSION = 'serverless-rollouts.io/v1alpha1';
const ACCEPTED_API_VERSIONS = [API_VERSION, 'argoproj.io/v1alpha1'];
export const DEFAULT_PROGRESS_DEADLINE_SECONDS = 600;
export const DEFAULT_ABORT_SCALE_DOWN_DELAY_SECONDS = 30;

/** Argo's wording, kept so users find the same messages they know. */
export const MESSAGES = {
  setWeight: 'SetWeight needs to be between 0 and 100',
  step: 'Step must have one of the following set: setWeight or pause',
  duplicatedServices:
    'This rollout uses the same service for the stable and canary services, but two different services are required.',
  trafficRouting: 'Canary service and Stable service must to be set to use Traffic Routing',
} as const;

const SUPPORTED_ACTIONS = ['setWeight', 'pause'] as const;
const ARGO_ONLY_ACTIONS = [
  'setCanaryScale',
  'analysis',
  'experiment',
  'setHeaderRoute',
  'setMirrorRoute',
  'plugin',
];

export interface TlsRouteMatch {
  port?: number;
  sniHosts?: string[];
}
export interface TcpRouteMatch {
  port?: number;
}
export interface VirtualServiceRef extends ObjectRef {
  /** As written in the Rollout, for messages. */
  reference: string;
  routes?: string[];
  tlsRoutes?: TlsRouteMatch[];
  tcpRoutes?: TcpRouteMatch[];
}
export type Step = { setWeight: number } | { pause: { durationSeconds?: number } };

export interface CanaryStrategy {
  canaryService: string;
  stableService: string;
  abortScaleDownDelaySeconds: number;
  virtualServices: VirtualServiceRef[];
  steps: Step[];
}
/** What the weight planner needs: enough for `rollouts preview`. */
export interface TrafficSpec {
  name: string;
  namespace: string;
  canary: CanaryStrategy;
}
export interface Workload {
  stableDeployment: string;
  canaryDeployment: string;
  container?: string;
}
export interface Trigger {
  repository: string;
  tagPattern?: string;
}
export interface Rollout extends TrafficSpec {
  cluster: string;
  workload: Workload;
  trigger?: Trigger;
  progressDeadlineSeconds: number;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; errors: string[] };

const name = z.string().trim().min(1, 'must not be empty');
const port = z.number().int().min(1).max(65535);

const virtualServiceSchema = z.object({
  name,
  routes: z.array(name).optional(),
  tlsRoutes: z.array(z.object({ port: port.optional(), sniHosts: z.array(name).optional() })).optional(),
  tcpRoutes: z.array(z.object({ port: port.optional() })).optional(),
});

const stepSchema = z.record(z.string(), z.unknown()).superRefine((step, ctx) => {
  const actions = Object.keys(step);
  const unsupported = actions.filter((action) => ARGO_ONLY_ACTIONS.includes(action));
  for (const action of unsupported) {
    ctx.addIssue({
      code: 'custom',
      path: [action],
      message: `step action '${action}' is not supported by serverless-rollouts (supported: setWeight, pause)`,
    });
  }
  const unknown = actions.filter(
    (action) =>
      !ARGO_ONLY_ACTIONS.includes(action) && !(SUPPORTED_ACTIONS as readonly string[]).includes(action),
  );
  for (const action of unknown) {
    ctx.addIssue({ code: 'custom', path: [action], message: `unknown step action '${action}'` });
  }
  if (actions.length === 0) {
    ctx.addIssue({ code: 'custom', message: `${MESSAGES.step}, found an empty step` });
  } else if (actions.length > 1) {
    ctx.addIssue({
      code: 'custom',
      message: `a step must have exactly one action, found ${actions.length}: ${actions.join(', ')}`,
    });
  }
  if ('setWeight' in step) {
    const weight = step.setWeight;
    if (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 0 || weight > 100) {
      ctx.addIssue({
        code: 'custom',
        path: ['setWeight'],
        message: `${MESSAGES.setWeight}, found ${JSON.stringify(weight)}`,
      });
    }
  }
  if ('pause' in step) {
    const pause = step.pause ?? {};
    if (typeof pause !== 'object' || Array.isArray(pause)) {
      ctx.addIssue({
        code: 'custom',
        path: ['pause'],
        message: 'pause must be an object: {} or {duration: 10m}',
      });
    } else if ('duration' in pause) {
      const parsed = parseDurationSeconds((pause as { duration: unknown }).duration);
      if (!parsed.ok) ctx.addIssue({ code: 'custom', path: ['pause', 'duration'], message: parsed.message });
    }
  }
});

const canarySchema = z
  .object({
    canaryService: z.string().optional(),
    stableService: z.string().optional(),
    abortScaleDownDelaySeconds: z.number().int().min(0).optional(),
    trafficRouting: z.object({
      istio: z
        .object({
          virtualService: virtualServiceSchema.optional(),
          virtualServices: z.array(virtualServiceSchema).optional(),
          destinationRule: z.unknown().optional(),
        })
        .superRefine((istio, ctx) => {
          const single = istio.virtualService !== undefined;
          const multiple = istio.virtualServices !== undefined;
          if (single === multiple) {
            ctx.addIssue({
              code: 'custom',
              message: `exactly one of virtualService or virtualServices must be set, found ${single ? 'both' : 'neither'}`,
            });
          }
          if (multiple && istio.virtualServices?.length === 0) {
            ctx.addIssue({
              code: 'custom',
              path: ['virtualServices'],
              message: 'must list at least one VirtualService',
            });
          }
          if (istio.destinationRule !== undefined) {
            ctx.addIssue({
              code: 'custom',
              path: ['destinationRule'],
              message:
                'subset-level traffic splitting (destinationRule) is not supported; split by host with canaryService and stableService',
            });
          }
        }),
    }),
    steps: z.array(stepSchema).default([]),
  })
  .superRefine((canary, ctx) => {
    for (const field of ['canaryService', 'stableService'] as const) {
      const service = canary[field]?.trim();
      const problem = service ? labelProblem(service) : MESSAGES.trafficRouting;
      if (problem) ctx.addIssue({ code: 'custom', path: [field], message: problem });
    }
    if (canary.canaryService && canary.canaryService === canary.stableService) {
      ctx.addIssue({
        code: 'custom',
        path: ['stableService'],
        message: `${MESSAGES.duplicatedServices} Both are '${canary.stableService}'.`,
      });
    }
  });

const metadataSchema = z.object({
  name: dnsLabel,
  namespace: dnsLabel.default('default'),
});

const envelopeSchema = z.object({
  apiVersion: z.string().refine((value) => ACCEPTED_API_VERSIONS.includes(value), {
    message: `must be ${API_VERSION}`,
  }),
  kind: z.literal('Rollout', { message: 'must be Rollout' }),
  metadata: metadataSchema,
});

const trafficSpecSchema = envelopeSchema.extend({
  spec: z.object({ strategy: z.object({ canary: canarySchema }) }),
});

const rolloutSchema = envelopeSchema.extend({
  spec: z.object({
    cluster: dnsLabel.default('default'),
    workload: z.object({
      stableDeployment: dnsSubdomain,
      canaryDeployment: dnsSubdomain,
      container: name.optional(),
    }),
    trigger: z
      .object({
        repository: name,
        tagPattern: z
          .string()
          .refine(isValidRegExp, { message: 'must be a valid regular expression' })
          .optional(),
      })
      .optional(),
    progressDeadlineSeconds: z.number().int().min(1).default(DEFAULT_PROGRESS_DEADLINE_SECONDS),
    strategy: z.object({ canary: canarySchema }),
  }),
});

type CanaryInput = z.infer<typeof canarySchema>;

/** For `preview`: only metadata and spec.strategy.canary are read. */
export function parseTrafficSpec(document: unknown): ParseResult<TrafficSpec> {
  const parsed = trafficSpecSchema.safeParse(document);
  if (!parsed.success) return { ok: false, errors: formatIssues(parsed.error.issues) };
  const { metadata, spec } = parsed.data;
  return finish({
    name: metadata.name,
    namespace: metadata.namespace,
    canary: normaliseCanary(spec.strategy.canary, metadata.namespace),
  });
}

/** For `apply` and `lint`: the whole Rollout. */
export function parseRollout(document: unknown): ParseResult<Rollout> {
  const parsed = rolloutSchema.safeParse(document);
  if (!parsed.success) return { ok: false, errors: formatIssues(parsed.error.issues) };
  const { metadata, spec } = parsed.data;
  if (spec.workload.stableDeployment === spec.workload.canaryDeployment) {
    return {
      ok: false,
      errors: [
        `spec.workload.canaryDeployment: the stable and canary Deployments must differ, both are '${spec.workload.stableDeployment}'`,
      ],
    };
  }
  return finish({
    name: metadata.name,
    namespace: metadata.namespace,
    cluster: spec.cluster,
    workload: spec.workload,
    ...(spec.trigger ? { trigger: spec.trigger } : {}),
    progressDeadlineSeconds: spec.progressDeadlineSeconds,
    canary: normaliseCanary(spec.strategy.canary, metadata.namespace),
  });
}

function finish<T extends TrafficSpec>(value: T): ParseResult<T> {
  const seen = new Map<string, string>();
  const errors: string[] = [];
  value.canary.virtualServices.forEach((vs, index) => {
    const field = `spec.strategy.canary.trafficRouting.istio.virtualServices[${index}].name`;
    const problems = [labelProblem(vs.namespace), subdomainProblem(vs.name)].filter(Boolean);
    for (const problem of problems) errors.push(`${field}: in the reference '${vs.reference}', ${problem}`);
    const key = formatRef(vs);
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      errors.push(
        `spec.strategy.canary.trafficRouting.istio.virtualServices[${index}].name: VirtualService names must be unique, '${vs.reference}' refers to ${key} like ${earlier}`,
      );
    }
    seen.set(key, `virtualServices[${seen.size}] '${vs.reference}'`);
  });
  return errors.length ? { ok: false, errors } : { ok: true, value };
}

function normaliseCanary(canary: CanaryInput, namespace: string): CanaryStrategy {
  const { virtualService, virtualServices } = canary.trafficRouting.istio;
  const refs = virtualServices ?? (virtualService ? [virtualService] : []);
  return {
    canaryService: canary.canaryService ?? '',
    stableService: canary.stableService ?? '',
    abortScaleDownDelaySeconds: canary.abortScaleDownDelaySeconds ?? DEFAULT_ABORT_SCALE_DOWN_DELAY_SECONDS,
    virtualServices: refs.map((vs) => ({
      reference: vs.name,
      ...parseVirtualServiceRef(vs.name, namespace),
      ...(vs.routes ? { routes: vs.routes } : {}),
      ...(vs.tlsRoutes ? { tlsRoutes: vs.tlsRoutes } : {}),
      ...(vs.tcpRoutes ? { tcpRoutes: vs.tcpRoutes } : {}),
    })),
    steps: canary.steps.map(normaliseStep),
  };
}

function normaliseStep(step: Record<string, unknown>): Step {
  if ('setWeight' in step) return { setWeight: step.setWeight as number };
  const pause = (step.pause ?? {}) as { duration?: unknown };
  if (pause.duration === undefined) return { pause: {} };
  const parsed = parseDurationSeconds(pause.duration);
  return { pause: parsed.ok ? { durationSeconds: parsed.seconds } : {} };
}

function isValidRegExp(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, segment) => {
    if (typeof segment === 'number') return `${out}[${segment}]`;
    return out ? `${out}.${String(segment)}` : String(segment);
  }, '');
}

function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const path = formatPath(issue.path);
    const message =
      issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message;
    return path ? `${path}: ${message}` : message;
  });
}

function isNormalised(value: unknown): value is TrafficSpec {
  const candidate = value as Partial<TrafficSpec> | null;
  return Boolean(
    candidate &&
    typeof candidate === 'object' &&
    candidate.canary &&
    Array.isArray(candidate.canary.virtualServices),
  );
}

/** A Rollout as parsed here, or a Rollout manifest (ours or Argo's) to parse: what the planner accepts. */
export function asTrafficSpec(value: TrafficSpec | unknown): ParseResult<TrafficSpec> {
  return isNormalised(value) ? { ok: true, value } : parseTrafficSpec(value);
}

/** The same for the engine, which needs the whole Rollout. */
export function asRollout(value: Rollout | unknown): ParseResult<Rollout> {
  return isNormalised(value) && 'workload' in (value as object)
    ? { ok: true, value: value as Rollout }
    : parseRollout(value);
}
