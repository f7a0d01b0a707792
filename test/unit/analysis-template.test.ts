/** AnalysisTemplate parsing, args, and the Rollout's analysis step and background analysis. */
import { describe, expect, it } from '@jest/globals';
import {
  combineTemplateArgs,
  mergeArgs,
  readManifestField,
  substitute,
  substituteTree,
} from '../../lib/core/analysis/args.js';
import { parseGoDuration } from '../../lib/core/analysis/duration.js';
import { validateMetricSpec } from '../../lib/core/analysis/metric.js';
import { startRun } from '../../lib/core/analysis/run.js';
import { parseAnalysisTemplate } from '../../lib/core/analysis/template.js';
import { parseRollout, parseTrafficSpec } from '../../lib/core/model/rollout.js';
import { err, ok } from '../../lib/core/result.js';
import { ARGO_SUCCESS_RATE, yaml } from './analysis-fixtures.js';
import { demoRolloutDocument } from './fixtures.js';

function templateDoc(metric: Record<string, unknown>, spec: Record<string, unknown> = {}): unknown {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AnalysisTemplate',
    metadata: { name: 't' },
    spec: {
      metrics: [{ name: 'm', provider: { prometheus: { address: 'http://p', query: 'up' } }, ...metric }],
      ...spec,
    },
  };
}

function errorsOf(document: unknown): string[] {
  const parsed = parseAnalysisTemplate(document);
  if (parsed.ok) throw new Error('expected the template to be rejected');
  return parsed.error;
}

describe('AnalysisTemplate', () => {
  it("parses Argo's documented success-rate template unchanged", () => {
    const parsed = parseAnalysisTemplate(yaml(ARGO_SUCCESS_RATE));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value).toMatchObject({
      kind: 'AnalysisTemplate',
      name: 'success-rate',
      namespace: 'default',
      args: [{ name: 'service-name' }],
      metrics: [
        { name: 'success-rate', interval: '5m', successCondition: 'result[0] >= 0.95', failureLimit: 3 },
      ],
    });
  });

  it('accepts our apiVersion and ClusterAnalysisTemplate (no namespace)', () => {
    const doc = templateDoc({}) as Record<string, unknown>;
    const parsed = parseAnalysisTemplate({
      ...doc,
      apiVersion: 'serverless-rollouts.io/v1alpha1',
      kind: 'ClusterAnalysisTemplate',
    });
    expect(parsed.ok && parsed.value).toMatchObject({ kind: 'ClusterAnalysisTemplate', name: 't' });
    expect(parsed.ok && 'namespace' in parsed.value).toBe(false);
  });

  it.each([
    [
      { valueFrom: { secretKeyRef: { name: 'creds', key: 'token' } } },
      'spec.args[0].valueFrom.secretKeyRef: secretKeyRef is not supported: the runner has no access to Kubernetes Secrets; use valueFrom.secretsManager: {secretId, jsonKey}',
    ],
    [
      { valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      "spec.args[0].valueFrom.fieldRef: fieldRef is read from the Rollout: set it in the Rollout's analysis args",
    ],
    [
      { value: 'a', valueFrom: { secretsManager: { secretId: 's' } } },
      'spec.args[0]: args.x: set value or valueFrom, not both',
    ],
  ])('rejects the arg %p with the reason', (arg, message) => {
    expect(errorsOf(templateDoc({}, { args: [{ name: 'x', ...arg }] }))).toEqual([message]);
  });

  it('takes valueFrom.secretsManager {secretId, jsonKey}', () => {
    const parsed = parseAnalysisTemplate(
      templateDoc(
        {},
        { args: [{ name: 'x', valueFrom: { secretsManager: { secretId: 'prod/api', jsonKey: 'k' } } }] },
      ),
    );
    expect(parsed.ok && parsed.value.args).toEqual([
      { name: 'x', secretsManager: { secretId: 'prod/api', jsonKey: 'k' } },
    ]);
  });

  it.each([
    [
      { provider: { datadog: { query: 'x' } } },
      "spec.metrics[0].provider.datadog: provider 'datadog' is not supported by serverless-rollouts (supported: prometheus, cloudWatch, web)",
    ],
    [
      { provider: {} },
      'spec.metrics[0].provider: no provider specified (supported: prometheus, cloudWatch, web)',
    ],
    [
      { provider: { web: { url: 'u' }, prometheus: {} } },
      'spec.metrics[0].provider: multiple providers specified: web, prometheus',
    ],
    [{ count: 3 }, 'spec.metrics[0]: interval must be specified when count > 1'],
    [{ failureLimit: -2 }, 'spec.metrics[0]: failureLimit must be >= 0, or -1 to be disabled'],
    [
      { failureLimit: -1 },
      'spec.metrics[0]: failureLimit and consecutiveSuccessLimit cannot both be disabled',
    ],
    [{ consecutiveSuccessLimit: -1 }, 'spec.metrics[0]: consecutiveSuccessLimit must be >= 0'],
    [{ inconclusiveLimit: -1 }, 'spec.metrics[0]: inconclusiveLimit must be >= 0'],
    [{ consecutiveErrorLimit: -1 }, 'spec.metrics[0]: consecutiveErrorLimit must be >= 0'],
    [
      { count: 2, interval: '1m', failureLimit: 2, consecutiveSuccessLimit: 1 },
      'spec.metrics[0]: count (2) must be >= failureLimit + consecutiveSuccessLimit (2 + 1) if both >= 0',
    ],
    [
      { count: 2, interval: '1m', failureLimit: -1, consecutiveSuccessLimit: 3 },
      'spec.metrics[0]: count must be >= consecutiveSuccessLimit',
    ],
    [
      { count: 2, interval: '1m', inconclusiveLimit: 3 },
      'spec.metrics[0]: count must be >= inconclusiveLimit',
    ],
    [
      { interval: '5 minutes' },
      "spec.metrics[0]: invalid interval string: invalid duration '5 minutes': expected a Go duration such as 30s, 5m, 1h30m or 500ms",
    ],
    [
      { initialDelay: '30' },
      "spec.metrics[0]: invalid startDelay string: invalid duration '30': expected a Go duration such as 30s, 5m, 1h30m or 500ms",
    ],
    [{ count: 'three' }, "spec.metrics[0]: count must be an integer, found 'three'"],
    [
      { successCondition: 'result > 1 and result < 5' },
      "spec.metrics[0]: successCondition \"result > 1 and result < 5\": not a valid CEL expression: Unexpected character: 'd'; 'and' is expr-lang: CEL writes '&&'; in CEL: result > 1 && result < 5",
    ],
    [{ nope: 1 }, 'spec.metrics[0]: Unrecognized key: "nope"'],
  ])('names the problem of %p with its field path (Argo ValidateMetric wording)', (metric, message) => {
    expect(errorsOf(templateDoc(metric))).toEqual([message]);
  });

  it('checks numbers held by {{args.x}} once a run resolves them', () => {
    expect(parseAnalysisTemplate(templateDoc({ count: '{{args.count}}', interval: '1m' })).ok).toBe(true);
    const template = parseAnalysisTemplate(
      templateDoc(
        { count: '{{args.count}}', failureLimit: '{{ args.limit }}' },
        { args: [{ name: 'count' }, { name: 'limit', value: '1' }] },
      ),
    );
    if (!template.ok) throw new Error(template.error.join());
    const started = startRun({
      id: 'r1',
      kind: 'Step',
      templates: [template.value],
      args: [{ name: 'count', value: '3' }],
      fields: { revision: 1 },
      now: 0,
    });
    expect(started).toMatchObject({
      phase: 'Error',
      message: 'Analysis spec invalid: metric "m": interval must be specified when count > 1',
    });
  });

  it('requires metrics, unique metric names and a DNS name', () => {
    expect(errorsOf({ ...(templateDoc({}) as object), metadata: { name: 'Bad_Name' } })).toEqual([
      'metadata.name: must be a DNS subdomain (lowercase letters, digits, - and .)',
    ]);
    const doc = templateDoc({}) as { spec: { metrics: unknown[] } };
    expect(errorsOf({ ...doc, spec: { metrics: [] } })).toEqual(['spec.metrics: no metrics specified']);
    expect(errorsOf({ ...doc, spec: { metrics: [doc.spec.metrics[0], doc.spec.metrics[0]] } })).toEqual([
      "spec.metrics[1].name: duplicate name 'm'",
    ]);
  });
});

describe('Go durations (intervals, initial delays)', () => {
  it.each([
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['500ms', 500],
    ['0', 0],
  ])('%s is %d ms', (text, ms) => expect(parseGoDuration(text)).toEqual(ok(ms)));
  it.each([['30'], ['-5s'], [''], ['5 m'], ['1d']])('rejects %p', (text) =>
    expect(parseGoDuration(text).ok).toBe(false),
  );
});

describe('args (Argo MergeArgs, flattenArgs, ResolveQuotedArgs)', () => {
  it('substitutes {{args.x}} with whitespace inside the braces, and fails on an unknown tag', () => {
    const values = new Map([['service-name', 'canary.default.svc']]);
    expect(substitute('{{args.service-name}} {{ args.service-name }}', values)).toEqual(
      ok('canary.default.svc canary.default.svc'),
    );
    expect(substitute('x {{args.missing}}', values)).toEqual(err('failed to resolve {{args.missing}}'));
    expect(substitute('{{ something }}', values)).toEqual(err('failed to resolve {{ something }}'));
    expect(substituteTree({ a: ['{{args.service-name}}', 3] }, values)).toEqual(
      ok({ a: ['canary.default.svc', 3] }),
    );
  });

  it('the Rollout sets template args; names the templates do not declare are ignored; every arg needs a value', () => {
    const declared = [{ name: 'service' }, { name: 'threshold', value: '0.95' }];
    expect(
      mergeArgs(
        declared,
        [
          { name: 'service', value: 'svc' },
          { name: 'other', value: 'x' },
        ],
        { revision: 1 },
      ),
    ).toEqual(
      ok([
        { name: 'service', value: 'svc' },
        { name: 'threshold', value: '0.95' },
      ]),
    );
    expect(mergeArgs(declared, [], { revision: 1 })).toEqual(
      err("args.service was not resolved: the Rollout's analysis args give it no value"),
    );
  });

  it('status.* fieldRefs read the status frozen at the run start', () => {
    const fields = { revision: 3, canaryImage: 'app:v2', stableImage: 'app:v1' };
    const given = [
      { name: 'canary', fieldPath: 'status.canaryImage' },
      { name: 'stable', fieldPath: 'status.stableImage' },
      { name: 'revision', fieldPath: 'status.revision' },
    ];
    expect(mergeArgs([{ name: 'canary' }, { name: 'stable' }, { name: 'revision' }], given, fields)).toEqual(
      ok([
        { name: 'canary', value: 'app:v2' },
        { name: 'stable', value: 'app:v1' },
        { name: 'revision', value: '3' },
      ]),
    );
  });

  it('two templates may declare the same arg, not with different values', () => {
    expect(combineTemplateArgs([[{ name: 'a' }], [{ name: 'a', value: '1' }]])).toEqual(
      ok([{ name: 'a', value: '1' }]),
    );
    expect(combineTemplateArgs([[{ name: 'a', value: '1' }], [{ name: 'a', value: '2' }]])).toEqual(
      err("Argument `a` specified multiple times with different values: '1', '2'"),
    );
  });

  it.each([
    ['metadata.name', ok('rollouts-demo')],
    ['metadata.namespace', ok('default')],
    ["metadata.labels['env']", ok('prod')],
    ["metadata.labels['absent']", ok('')],
    ['spec.strategy.canary.canaryService', ok('rollouts-demo-canary')],
    ['spec.strategy.canary.steps[0].setWeight', ok('5')],
    ['spec.strategy.canary', err('path spec.strategy.canary in rollout must terminate in a primitive value')],
    ['spec.nothing', err('invalid path spec.nothing in rollout')],
    [
      'metadata.uid',
      err(
        "unsupported fieldPath metadata.uid: use metadata.name, metadata.namespace, metadata.labels['key'] or metadata.annotations['key']",
      ),
    ],
  ])('fieldRef %s reads the manifest', (path, expected) => {
    const doc = structuredClone(demoRolloutDocument()) as { metadata: Record<string, unknown> };
    doc.metadata.labels = { env: 'prod' };
    expect(readManifestField(doc, path)).toEqual(expected);
  });
});

describe("the Rollout's analysis", () => {
  function withCanary(change: (canary: Record<string, any>) => void) {
    const doc = structuredClone(demoRolloutDocument()) as any;
    doc.metadata.labels = { env: 'prod' };
    change(doc.spec.strategy.canary);
    return parseRollout(doc);
  }

  it('parses an analysis step with templates and args; manifest fieldRefs are read now, status ones at the run start', () => {
    const parsed = withCanary((canary) => {
      canary.steps[1] = {
        analysis: {
          templates: [{ templateName: 'success-rate' }, { templateName: 'latency', clusterScope: true }],
          args: [
            { name: 'service-name', value: 'rollouts-demo-canary' },
            { name: 'env', valueFrom: { fieldRef: { fieldPath: "metadata.labels['env']" } } },
            { name: 'image', valueFrom: { fieldRef: { fieldPath: 'status.canaryImage' } } },
          ],
        },
      };
    });
    expect(parsed.ok && parsed.value.canary.steps[1]).toEqual({
      analysis: {
        templates: [
          { templateName: 'success-rate', clusterScope: false },
          { templateName: 'latency', clusterScope: true },
        ],
        args: [
          { name: 'service-name', value: 'rollouts-demo-canary' },
          { name: 'env', value: 'prod' },
          { name: 'image', fieldPath: 'status.canaryImage' },
        ],
        dryRun: [],
        measurementRetention: [],
      },
    });
  });

  it('parses background analysis with startingStep (default 0)', () => {
    const parsed = withCanary((canary) => {
      canary.analysis = { templates: [{ templateName: 'success-rate' }], startingStep: 2 };
    });
    expect(parsed.ok && parsed.value.canary.analysis).toMatchObject({
      startingStep: 2,
      templates: [{ templateName: 'success-rate' }],
    });
    const defaulted = withCanary((canary) => {
      canary.analysis = { templates: [{ templateName: 'success-rate' }] };
    });
    expect(defaulted.ok && defaulted.value.canary.analysis?.startingStep).toBe(0);
  });

  it.each([
    [
      (canary: any) => (canary.steps[1] = { analysis: { templates: [] } }),
      'spec.strategy.canary.steps[1].analysis.templates: must list at least one template',
    ],
    [
      (canary: any) => (canary.analysis = { templates: [{ templateName: 'a' }], startingStep: 9 }),
      'spec.strategy.canary.analysis.startingStep: StartingStep 9 is past the last step (4 steps)',
    ],
    [
      (canary: any) =>
        (canary.steps[1] = {
          analysis: {
            templates: [{ templateName: 'a' }],
            args: [{ name: 'x', valueFrom: { podTemplateHashValue: 'Latest' } }],
          },
        }),
      'spec.strategy.canary.steps[1].analysis.args[0].valueFrom.podTemplateHashValue: podTemplateHashValue is not supported: the stable and canary Deployments have no ReplicaSet hash to share; use fieldRef status.canaryImage or status.revision',
    ],
    [
      (canary: any) =>
        (canary.analysis = {
          templates: [{ templateName: 'a' }],
          args: [{ name: 'x', valueFrom: { fieldRef: { fieldPath: 'status.alb.canaryTargetGroup.name' } } }],
        }),
      'spec.strategy.canary.analysis.args[0].valueFrom.fieldRef.fieldPath: unsupported fieldPath status.alb.canaryTargetGroup.name: use metadata.*, spec.*, or status.canaryImage, status.stableImage, status.revision',
    ],
  ])('names what is wrong (%#)', (change, message) => {
    const parsed = withCanary(change);
    expect(parsed.ok ? [] : parsed.error).toEqual([message]);
  });

  it('an Argo Rollout manifest with an analysis step lints its canary block', () => {
    const doc = structuredClone(demoRolloutDocument()) as any;
    doc.apiVersion = 'argoproj.io/v1alpha1';
    doc.spec.strategy.canary.steps[1] = { analysis: { templates: [{ templateName: 'success-rate' }] } };
    expect(parseTrafficSpec(doc).ok).toBe(true);
  });
});

describe('metric rules', () => {
  it('validateMetricSpec accepts a plain metric', () => {
    expect(validateMetricSpec({ name: 'm', provider: {} })).toEqual(ok(undefined));
  });
});
