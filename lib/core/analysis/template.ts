/**
 * AnalysisTemplate and ClusterAnalysisTemplate: Argo Rollouts' fields and meaning, so an Argo user's
 * templates run unchanged. Parsing checks the shape and everything that does not depend on argument
 * values; what does (a count of `{{args.count}}`) is checked again when a run freezes the template.
 */
import { z } from 'zod';
import { formatIssueList } from '../model/issues.js';
import { err, ok, type Result } from '../result.js';
import { validateMetricSpec } from './metric.js';

export const TEMPLATE_API_VERSIONS = ['argoproj.io/v1alpha1', 'serverless-rollouts.io/v1alpha1'];
export const TEMPLATE_KINDS = ['AnalysisTemplate', 'ClusterAnalysisTemplate'] as const;
export type TemplateKind = (typeof TEMPLATE_KINDS)[number];
/** The providers this runner has; others are Argo's and rejected by name. */
export const SUPPORTED_PROVIDERS = ['prometheus', 'cloudWatch', 'web'] as const;

export interface SecretsManagerRef {
  secretId: string;
  /** A key of the secret's JSON object; absent = the whole secret string. */
  jsonKey?: string;
}
/** An argument as written in a template or in a Rollout's analysis block. */
export interface ArgSource {
  name: string;
  value?: string;
  /** A Rollout field, read when the run starts (only `status.*` paths remain here after parsing). */
  fieldPath?: string;
  secretsManager?: SecretsManagerRef;
}
/** Count and limits are IntOrString in Argo: a number, or a string such as `{{args.count}}`. */
export type IntOrString = number | string;
export interface MetricSpec {
  name: string;
  interval?: string;
  initialDelay?: string;
  count?: IntOrString;
  successCondition?: string;
  failureCondition?: string;
  failureLimit?: IntOrString;
  inconclusiveLimit?: IntOrString;
  consecutiveErrorLimit?: IntOrString;
  consecutiveSuccessLimit?: IntOrString;
  /** Exactly one of SUPPORTED_PROVIDERS, e.g. {prometheus: {address, query}}. */
  provider: Record<string, unknown>;
}
export interface MetricNameRule {
  metricName: string;
}
export interface RetentionRule extends MetricNameRule {
  limit: number;
}
export interface AnalysisTemplate {
  kind: TemplateKind;
  name: string;
  /** Absent for a ClusterAnalysisTemplate. */
  namespace?: string;
  args: ArgSource[];
  metrics: MetricSpec[];
  dryRun: MetricNameRule[];
  measurementRetention: RetentionRule[];
}

const text = z.string().trim().min(1, 'must not be empty');
const intOrString = z.union([z.number().int(), z.string()]);

export const secretsManagerSchema = z.object({ secretId: text, jsonKey: text.optional() }).strict();

const SECRET_KEY_REF_REASON =
  'secretKeyRef is not supported: the runner has no access to Kubernetes Secrets; use valueFrom.secretsManager: {secretId, jsonKey}';

/** `valueFrom` for both levels; `fieldRef` only where the caller allows it (a Rollout's args). */
export function argSchema(allowFieldRef: boolean) {
  return z
    .object({
      name: text,
      value: z.union([z.string(), z.number(), z.boolean()]).optional(),
      valueFrom: z
        .object({
          secretKeyRef: z.unknown().optional(),
          fieldRef: z.object({ fieldPath: text }).optional(),
          secretsManager: secretsManagerSchema.optional(),
          podTemplateHashValue: z.unknown().optional(),
        })
        .strict()
        .superRefine((from, ctx) => {
          if (from.secretKeyRef !== undefined)
            ctx.addIssue({ code: 'custom', path: ['secretKeyRef'], message: SECRET_KEY_REF_REASON });
          if (from.podTemplateHashValue !== undefined)
            ctx.addIssue({
              code: 'custom',
              path: ['podTemplateHashValue'],
              message:
                'podTemplateHashValue is not supported: the stable and canary Deployments have no ReplicaSet hash to share; use fieldRef status.canaryImage or status.revision',
            });
          if (from.fieldRef !== undefined && !allowFieldRef)
            ctx.addIssue({
              code: 'custom',
              path: ['fieldRef'],
              message: "fieldRef is read from the Rollout: set it in the Rollout's analysis args",
            });
          const set = [from.fieldRef, from.secretsManager].filter((source) => source !== undefined);
          if (set.length > 1)
            ctx.addIssue({ code: 'custom', message: 'set one of fieldRef or secretsManager, not both' });
        })
        .optional(),
    })
    .strict()
    .superRefine((arg, ctx) => {
      if (arg.value !== undefined && arg.valueFrom !== undefined)
        ctx.addIssue({ code: 'custom', message: `args.${arg.name}: set value or valueFrom, not both` });
    })
    .transform((arg): ArgSource => {
      const from = arg.valueFrom;
      return {
        name: arg.name,
        ...(arg.value !== undefined ? { value: String(arg.value) } : {}),
        ...(from?.fieldRef ? { fieldPath: from.fieldRef.fieldPath } : {}),
        ...(from?.secretsManager ? { secretsManager: from.secretsManager } : {}),
      };
    });
}

export const metricNameRuleSchema = z.object({ metricName: text }).strict();
export const retentionRuleSchema = z.object({ metricName: text, limit: z.number().int().min(0) }).strict();

const metricSchema = z
  .object({
    name: text,
    interval: z.string().optional(),
    initialDelay: z.string().optional(),
    count: intOrString.optional(),
    successCondition: z.string().optional(),
    failureCondition: z.string().optional(),
    failureLimit: intOrString.optional(),
    inconclusiveLimit: intOrString.optional(),
    consecutiveErrorLimit: intOrString.optional(),
    consecutiveSuccessLimit: intOrString.optional(),
    provider: z.record(z.string(), z.unknown()),
  })
  .strict()
  .superRefine((metric, ctx) => {
    const providers = Object.keys(metric.provider);
    if (providers.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['provider'],
        message:
          providers.length === 0
            ? `no provider specified (supported: ${SUPPORTED_PROVIDERS.join(', ')})`
            : `multiple providers specified: ${providers.join(', ')}`,
      });
      return;
    }
    const [name] = providers as [string];
    if (!(SUPPORTED_PROVIDERS as readonly string[]).includes(name)) {
      ctx.addIssue({
        code: 'custom',
        path: ['provider', name],
        message: `provider '${name}' is not supported by serverless-rollouts (supported: ${SUPPORTED_PROVIDERS.join(', ')})`,
      });
    } else if (typeof metric.provider[name] !== 'object' || metric.provider[name] === null) {
      ctx.addIssue({ code: 'custom', path: ['provider', name], message: 'must be an object' });
    }
    // Checked now only when no argument can change it; a run checks the resolved metric again.
    if (!JSON.stringify(withoutProvider(metric)).includes('{{')) {
      const checked = validateMetricSpec(metric);
      if (!checked.ok) ctx.addIssue({ code: 'custom', message: checked.error });
    }
  });

function withoutProvider(metric: MetricSpec): Omit<MetricSpec, 'provider'> {
  const { provider: _provider, ...rest } = metric;
  return rest;
}

const templateSchema = z
  .object({
    apiVersion: z.string().refine((value) => TEMPLATE_API_VERSIONS.includes(value), {
      message: `must be one of ${TEMPLATE_API_VERSIONS.join(', ')}`,
    }),
    kind: z.enum(TEMPLATE_KINDS, { message: `must be ${TEMPLATE_KINDS.join(' or ')}` }),
    metadata: z.object({
      name: z
        .string()
        .regex(
          /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/,
          'must be a DNS subdomain (lowercase letters, digits, - and .)',
        )
        .max(253),
      namespace: z.string().min(1).optional(),
    }),
    spec: z
      .object({
        args: z.array(argSchema(false)).default([]),
        metrics: z.array(metricSchema).min(1, 'no metrics specified'),
        dryRun: z.array(metricNameRuleSchema).default([]),
        measurementRetention: z.array(retentionRuleSchema).default([]),
        templates: z.unknown().optional(),
      })
      .superRefine((spec, ctx) => {
        if (spec.templates !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['templates'],
            message:
              'templates inside a template are not supported: list every template in the Rollout instead',
          });
        duplicates(spec.metrics.map((metric) => metric.name)).forEach(([index, name]) =>
          ctx.addIssue({
            code: 'custom',
            path: ['metrics', index, 'name'],
            message: `duplicate name '${name}'`,
          }),
        );
        duplicates(spec.args.map((arg) => arg.name)).forEach(([index, name]) =>
          ctx.addIssue({ code: 'custom', path: ['args', index, 'name'], message: `duplicate arg '${name}'` }),
        );
      }),
  })
  .superRefine((doc, ctx) => {
    if (doc.kind === 'ClusterAnalysisTemplate' && doc.metadata.namespace !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['metadata', 'namespace'],
        message: 'a ClusterAnalysisTemplate has no namespace',
      });
  });

function duplicates(names: string[]): [number, string][] {
  return names.flatMap((name, index) =>
    names.indexOf(name) < index ? [[index, name] as [number, string]] : [],
  );
}

/** Every problem with its field path, one per line. */
export function parseAnalysisTemplate(document: unknown): Result<AnalysisTemplate, string[]> {
  const parsed = templateSchema.safeParse(document);
  if (!parsed.success) return err(formatIssueList(parsed.error));
  const { kind, metadata, spec } = parsed.data;
  return ok({
    kind,
    name: metadata.name,
    ...(kind === 'AnalysisTemplate' ? { namespace: metadata.namespace ?? 'default' } : {}),
    args: spec.args,
    metrics: spec.metrics,
    dryRun: spec.dryRun,
    measurementRetention: spec.measurementRetention,
  });
}

export function isAnalysisTemplateKind(kind: string | undefined): kind is TemplateKind {
  return (TEMPLATE_KINDS as readonly (string | undefined)[]).includes(kind);
}

export { findTemplate, refLabel, templateLabel, type TemplateRefInput } from './template-refs.js';
