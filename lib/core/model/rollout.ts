/**
 * The Rollout resource: Argo Rollouts' canary block (same names, same meaning) plus where the
 * workload lives. Parsing yields a normalised Rollout or every problem, each with its field path.
 */
import type { Result } from '../result.js';
import { z } from 'zod';
import { readManifestField, STATUS_FIELD_PATHS } from '../analysis/args.js';
import {
  argSchema,
  metricNameRuleSchema,
  retentionRuleSchema,
  type ArgSource,
  type MetricNameRule,
  type RetentionRule,
} from '../analysis/template.js';
import { parseDurationSeconds } from './duration.js';
import { formatIssueList, issueMessage } from './issues.js';
import { dnsLabel, dnsSubdomain, labelProblem, subdomainProblem } from './names.js';
import { formatRef, parseVirtualServiceRef, type ObjectRef } from './references.js';
import {
  isRouteStep,
  managedRoutesSchema,
  normaliseRouteStep,
  routeOf,
  ROUTE_STEP_MESSAGES,
  setHeaderRouteSchema,
  setMirrorRouteSchema,
  type RouteStep,
} from './route-steps.js';
import { compileTagPattern } from './tag-pattern.js';
import { repositoryProblem } from './images.js';

export const API_VERSION = 'serverless-rollouts.io/v1alpha1';
const ACCEPTED_API_VERSIONS = [API_VERSION, 'argoproj.io/v1alpha1'];
export const DEFAULT_PROGRESS_DEADLINE_SECONDS = 600;
export const DEFAULT_ABORT_SCALE_DOWN_DELAY_SECONDS = 30;

/** Argo's wording, kept so users find the same messages they know. */
export const MESSAGES = {
  setWeight: 'SetWeight needs to be between 0 and 100',
  step: 'Step must have one of the following set: setWeight, pause, setHeaderRoute or setMirrorRoute',
  duplicatedServices:
    'This rollout uses the same service for the stable and canary services, but two different services are required.',
  trafficRouting: 'Canary service and Stable service must to be set to use Traffic Routing',
} as const;

const SUPPORTED_ACTIONS = ['setWeight', 'pause', 'analysis', 'setHeaderRoute', 'setMirrorRoute'] as const;
const ARGO_ONLY_ACTIONS = ['setCanaryScale', 'experiment', 'plugin'];
/** Argo actions that leave VirtualServices as they are: `preview` of an Argo manifest steps over them. */
const TRAFFIC_NEUTRAL_ACTIONS = ['setCanaryScale'];

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
export interface AnalysisTemplateRef {
  templateName: string;
  clusterScope: boolean;
}
/** Argo's RolloutAnalysis: the templates a run combines and the args it passes them. */
export interface RolloutAnalysis {
  templates: AnalysisTemplateRef[];
  /** `fieldRef`s to metadata.* and spec.* are read at parse time; status.* ones when a run starts. */
  args: ArgSource[];
  dryRun: MetricNameRule[];
  measurementRetention: RetentionRule[];
}
export interface BackgroundAnalysis extends RolloutAnalysis {
  /** The step index the background run starts at (0: with the first step). */
  startingStep: number;
}
export type Step =
  { setWeight: number } | { pause: { durationSeconds?: number } } | { analysis: RolloutAnalysis } | RouteStep;
/** A step `preview` reads from an Argo manifest but that changes no VirtualService (setCanaryScale). */
export type TrafficStep = Step | { trafficNeutral: string };

export interface CanaryStrategy<S = Step> {
  canaryService: string;
  stableService: string;
  abortScaleDownDelaySeconds: number;
  virtualServices: VirtualServiceRef[];
  /** trafficRouting.managedRoutes: the routes the steps may create, in precedence order (empty: none). */
  managedRoutes: string[];
  steps: S[];
  /** Background analysis: runs from startingStep until the rollout completes or aborts. */
  analysis?: BackgroundAnalysis;
}
/** What the weight planner needs: enough for `rollouts preview`. */
export interface TrafficSpec {
  name: string;
  namespace: string;
  canary: CanaryStrategy<TrafficStep>;
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
  canary: CanaryStrategy;
  cluster: string;
  workload: Workload;
  trigger?: Trigger;
  progressDeadlineSeconds: number;
}

/** A spec parsed, or every problem in it, each with its field path. */
export type ParseResult<T> = Result<T, string[]>;

const name = z.string().trim().min(1, 'must not be empty');
const port = z.number().int().min(1).max(65535);

const virtualServiceSchema = z.object({
  name,
  routes: z.array(name).optional(),
  tlsRoutes: z.array(z.object({ port: port.optional(), sniHosts: z.array(name).optional() })).optional(),
  tcpRoutes: z.array(z.object({ port: port.optional() })).optional(),
});

const analysisFields = {
  templates: z
    .array(z.object({ templateName: name, clusterScope: z.boolean().optional() }).strict())
    .min(1, 'must list at least one template'),
  args: z.array(argSchema(true)).default([]),
  dryRun: z.array(metricNameRuleSchema).default([]),
  measurementRetention: z.array(retentionRuleSchema).default([]),
  analysisRunMetadata: z.unknown().optional(),
};
const stepAnalysisSchema = z.object(analysisFields).strict();
const backgroundAnalysisSchema = z
  .object({ ...analysisFields, startingStep: z.number().int().min(0).optional() })
  .strict();

const makeStepSchema = (neutral: readonly string[]) =>
  z.record(z.string(), z.unknown()).superRefine((step, ctx) => {
    const actions = Object.keys(step);
    const unsupported = actions.filter(
      (action) => ARGO_ONLY_ACTIONS.includes(action) && !neutral.includes(action),
    );
    for (const action of unsupported) {
      ctx.addIssue({
        code: 'custom',
        path: [action],
        message: `step action '${action}' is not supported by serverless-rollouts (supported: ${SUPPORTED_ACTIONS.join(', ')})`,
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
    for (const [action, schema] of [
      ['setHeaderRoute', setHeaderRouteSchema],
      ['setMirrorRoute', setMirrorRouteSchema],
    ] as const) {
      if (!(action in step)) continue;
      const parsed = schema.safeParse(step[action]);
      for (const issue of parsed.success ? [] : parsed.error.issues)
        ctx.addIssue({ code: 'custom', path: [action, ...issue.path], message: issueMessage(issue) });
    }
    if ('analysis' in step) {
      const parsed = stepAnalysisSchema.safeParse(step.analysis);
      if (!parsed.success)
        for (const issue of parsed.error.issues)
          ctx.addIssue({ code: 'custom', path: ['analysis', ...issue.path], message: issueMessage(issue) });
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
        if (!parsed.ok) ctx.addIssue({ code: 'custom', path: ['pause', 'duration'], message: parsed.error });
      }
    }
  });

const makeCanarySchema = (neutral: readonly string[]) =>
  z
    .object({
      canaryService: z.string().optional(),
      stableService: z.string().optional(),
      abortScaleDownDelaySeconds: z.number().int().min(0).optional(),
      trafficRouting: z.object({
        managedRoutes: managedRoutesSchema.optional(),
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
      steps: z.array(makeStepSchema(neutral)).default([]),
      analysis: backgroundAnalysisSchema.optional(),
    })
    .superRefine((canary, ctx) => {
      checkManagedRoutes(canary, ctx);
      const startingStep = canary.analysis?.startingStep;
      if (startingStep !== undefined && startingStep > canary.steps.length)
        ctx.addIssue({
          code: 'custom',
          path: ['analysis', 'startingStep'],
          message: `StartingStep ${startingStep} is past the last step (${canary.steps.length} steps)`,
        });
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

const canarySchema = makeCanarySchema([]);
const trafficCanarySchema = makeCanarySchema(TRAFFIC_NEUTRAL_ACTIONS);

/** Route steps name declared managed routes, and a managed route is never one the Rollout weights. */
function checkManagedRoutes(canary: z.infer<typeof canarySchema>, ctx: z.RefinementCtx): void {
  const declared = canary.trafficRouting.managedRoutes;
  const names = (declared ?? []).map((route) => route.name);
  canary.steps.forEach((step, index) => {
    if (!isRouteStep(step)) return;
    const action = 'setHeaderRoute' in step ? 'setHeaderRoute' : 'setMirrorRoute';
    const name = (routeOf(step) as { name?: unknown }).name;
    if (typeof name !== 'string') return;
    if (declared === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['trafficRouting', 'managedRoutes'],
        message: `${ROUTE_STEP_MESSAGES.managedRoutesMissing}: steps[${index}].${action} needs it`,
      });
    } else if (!names.includes(name)) {
      ctx.addIssue({
        code: 'custom',
        path: ['steps', index, action, 'name'],
        message: `${ROUTE_STEP_MESSAGES.notInManagedRoutes}: '${name}' (declared: ${names.map((n) => `'${n}'`).join(', ') || 'none'})`,
      });
    }
  });
  const { virtualService, virtualServices } = canary.trafficRouting.istio;
  const weighted = new Set(
    (virtualServices ?? (virtualService ? [virtualService] : [])).flatMap((vs) => vs.routes ?? []),
  );
  names.forEach((name, index) => {
    if (weighted.has(name))
      ctx.addIssue({
        code: 'custom',
        path: ['trafficRouting', 'managedRoutes', index, 'name'],
        message: `'${name}' is also a route the Rollout weights (istio virtualService routes); managed routes are created and removed by the Rollout and must be other routes`,
      });
  });
}

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
  spec: z.object({ strategy: z.object({ canary: trafficCanarySchema }) }),
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
        repository: name.superRefine((repository, ctx) => {
          const problem = repositoryProblem(repository);
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        }),
        tagPattern: z
          .string()
          .max(1024)
          .superRefine((pattern, ctx) => {
            const compiled = compileTagPattern(pattern);
            if (!compiled.ok) ctx.addIssue({ code: 'custom', message: compiled.error });
          })
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
  if (!parsed.success) return { ok: false, error: formatIssueList(parsed.error) };
  const { metadata, spec } = parsed.data;
  return finish(
    {
      name: metadata.name,
      namespace: metadata.namespace,
      canary: normaliseTrafficCanary(spec.strategy.canary, metadata.namespace),
    },
    document,
  );
}

/** For `apply` and `lint`: the whole Rollout. */
export function parseRollout(document: unknown): ParseResult<Rollout> {
  const parsed = rolloutSchema.safeParse(document);
  if (!parsed.success) return { ok: false, error: formatIssueList(parsed.error) };
  const { metadata, spec } = parsed.data;
  if (spec.workload.stableDeployment === spec.workload.canaryDeployment) {
    return {
      ok: false,
      error: [
        `spec.workload.canaryDeployment: the stable and canary Deployments must differ, both are '${spec.workload.stableDeployment}'`,
      ],
    };
  }
  return finish(
    {
      name: metadata.name,
      namespace: metadata.namespace,
      cluster: spec.cluster,
      workload: spec.workload,
      ...(spec.trigger ? { trigger: spec.trigger } : {}),
      progressDeadlineSeconds: spec.progressDeadlineSeconds,
      canary: normaliseCanary(spec.strategy.canary, metadata.namespace),
    },
    document,
  );
}

function finish<T extends TrafficSpec>(value: T, document: unknown): ParseResult<T> {
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
  const canary = readManifestArgs(value.canary, document, errors);
  return errors.length ? { ok: false, error: errors } : { ok: true, value: { ...value, canary } };
}

/** Analysis args whose fieldRef reads the manifest (metadata.*, spec.*) take their value now, as Argo reads them at run creation from the same spec. */
function readManifestArgs<S extends TrafficStep>(
  canary: CanaryStrategy<S>,
  document: unknown,
  errors: string[],
): CanaryStrategy<S> {
  const resolve = (analysis: RolloutAnalysis, path: string): RolloutAnalysis => ({
    ...analysis,
    args: analysis.args.map((arg, index) => {
      if (arg.fieldPath === undefined || arg.fieldPath in STATUS_FIELD_PATHS) return arg;
      const read = readManifestField(document, arg.fieldPath);
      if (!read.ok) {
        errors.push(`${path}.args[${index}].valueFrom.fieldRef.fieldPath: ${read.error}`);
        return arg;
      }
      return { name: arg.name, value: read.value };
    }),
  });
  const base = 'spec.strategy.canary';
  return {
    ...canary,
    steps: canary.steps.map((step, index) =>
      'analysis' in step
        ? ({ analysis: resolve(step.analysis, `${base}.steps[${index}].analysis`) } as S)
        : step,
    ),
    ...(canary.analysis
      ? {
          analysis: {
            ...resolve(canary.analysis, `${base}.analysis`),
            startingStep: canary.analysis.startingStep,
          },
        }
      : {}),
  };
}

function normaliseAnalysis(input: z.infer<typeof stepAnalysisSchema>): RolloutAnalysis {
  return {
    templates: input.templates.map((ref) => ({
      templateName: ref.templateName,
      clusterScope: ref.clusterScope ?? false,
    })),
    args: input.args,
    dryRun: input.dryRun,
    measurementRetention: input.measurementRetention,
  };
}

function normaliseCanary(canary: CanaryInput, namespace: string): CanaryStrategy {
  return normaliseTrafficCanary(canary, namespace) as CanaryStrategy;
}

function normaliseTrafficCanary(canary: CanaryInput, namespace: string): CanaryStrategy<TrafficStep> {
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
    managedRoutes: (canary.trafficRouting.managedRoutes ?? []).map((route) => route.name),
    steps: canary.steps.map(normaliseStep),
    ...(canary.analysis
      ? {
          analysis: {
            ...normaliseAnalysis(canary.analysis),
            startingStep: canary.analysis.startingStep ?? 0,
          },
        }
      : {}),
  };
}

function normaliseStep(step: Record<string, unknown>): TrafficStep {
  if ('setWeight' in step) return { setWeight: step.setWeight as number };
  if ('analysis' in step) return { analysis: normaliseAnalysis(stepAnalysisSchema.parse(step.analysis)) };
  if (isRouteStep(step)) return normaliseRouteStep(step);
  const neutral = TRAFFIC_NEUTRAL_ACTIONS.find((action) => action in step);
  if (neutral) return { trafficNeutral: neutral };
  const pause = (step.pause ?? {}) as { duration?: unknown };
  if (pause.duration === undefined) return { pause: {} };
  const parsed = parseDurationSeconds(pause.duration);
  return { pause: parsed.ok ? { durationSeconds: parsed.value } : {} };
}
