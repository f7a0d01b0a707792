import { describe, expect, it } from '@jest/globals';
import { parseDurationSeconds } from '../../lib/core/model/duration.js';
import { parseVirtualServiceRef } from '../../lib/core/model/references.js';
import { MESSAGES, parseRollout, parseTrafficSpec } from '../../lib/core/model/rollout.js';
import { parseYamlDocuments } from '../../lib/core/model/yaml.js';
import { demoRolloutDocument } from './fixtures.js';

function errorsFor(change: (doc: any) => void, parse = parseRollout): string[] {
  const doc = structuredClone(demoRolloutDocument()) as any;
  change(doc);
  const result = parse(doc);
  if (result.ok) throw new Error('expected the spec to be rejected');
  return result.error;
}

describe('pause durations', () => {
  it.each([
    [30, 30],
    ['30', 30],
    ['30s', 30],
    ['10m', 600],
    ['1h', 3600],
    ['1h30m', 5400],
    ['1h0m5s', 3605],
    [0, 0],
  ])('%p is %d seconds', (input, seconds) => {
    expect(parseDurationSeconds(input)).toEqual({ ok: true, value: seconds });
  });

  it.each([[-5], ['-5s'], ['-1']])('rejects the negative %p with Argo wording', (input) => {
    const result = parseDurationSeconds(input);
    expect(result).toMatchObject({ ok: false });
    expect(!result.ok && result.error).toContain('Duration needs to be greater than 0');
  });

  it.each([['ten minutes'], ['10x'], ['1.5h'], [''], ['m'], [1.5], [null], [[1]], [{}]])(
    'rejects %p',
    (input) => {
      expect(parseDurationSeconds(input).ok).toBe(false);
    },
  );
});

describe('VirtualService references', () => {
  it.each([
    ['vsvc', { namespace: 'default', name: 'vsvc' }],
    ['vsvc.istio-system', { namespace: 'istio-system', name: 'vsvc' }],
    ['vsvc.prod.svc.cluster.local', { namespace: 'prod', name: 'vsvc' }],
    ['vsvc.prod.cluster.local', { namespace: 'prod', name: 'vsvc' }],
    ['my.vsvc.prod', { namespace: 'prod', name: 'my.vsvc' }],
  ])('%s', (reference, expected) => {
    expect(parseVirtualServiceRef(reference, 'default')).toEqual(expected);
  });
});

describe('the Rollout spec', () => {
  it('parses the demo Rollout with defaults and normalised steps', () => {
    const result = parseRollout(demoRolloutDocument());
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value).toMatchObject({
      name: 'rollouts-demo',
      namespace: 'default',
      cluster: 'default',
      progressDeadlineSeconds: 600,
      workload: { stableDeployment: 'rollouts-demo-stable', canaryDeployment: 'rollouts-demo-canary' },
      canary: {
        abortScaleDownDelaySeconds: 30,
        steps: [{ setWeight: 5 }, { pause: {} }, { setWeight: 50 }, { pause: { durationSeconds: 30 } }],
      },
    });
    expect(result.value.canary.virtualServices.map((vs) => vs.name)).toEqual([
      'rollouts-demo-vsvc1',
      'rollouts-demo-vsvc2',
    ]);
  });

  it('defaults namespace, cluster, deadline and scale-down delay', () => {
    const doc = structuredClone(demoRolloutDocument()) as any;
    delete doc.metadata.namespace;
    delete doc.spec.cluster;
    delete doc.spec.progressDeadlineSeconds;
    delete doc.spec.strategy.canary.abortScaleDownDelaySeconds;
    const result = parseRollout(doc);
    expect(result.ok && result.value).toMatchObject({
      namespace: 'default',
      cluster: 'default',
      progressDeadlineSeconds: 600,
      canary: { abortScaleDownDelaySeconds: 30 },
    });
  });

  it('accepts a single virtualService', () => {
    const doc = structuredClone(demoRolloutDocument()) as any;
    const istio = doc.spec.strategy.canary.trafficRouting.istio;
    istio.virtualService = istio.virtualServices[0];
    delete istio.virtualServices;
    const result = parseRollout(doc);
    expect(result.ok && result.value.canary.virtualServices).toHaveLength(1);
  });

  it.each([[-1], [101], [5.5], ['5']])(
    'rejects setWeight %p with the field path and Argo wording',
    (weight) => {
      const errors = errorsFor((doc) => (doc.spec.strategy.canary.steps[2].setWeight = weight));
      expect(errors).toEqual([
        expect.stringContaining(`spec.strategy.canary.steps[2].setWeight: ${MESSAGES.setWeight}`),
      ]);
    },
  );

  it('rejects a garbage pause duration with its path', () => {
    const errors = errorsFor((doc) => (doc.spec.strategy.canary.steps[3].pause.duration = 'soon'));
    expect(errors).toEqual([
      expect.stringMatching(/^spec\.strategy\.canary\.steps\[3\]\.pause\.duration: invalid duration 'soon'/),
    ]);
  });

  it('rejects a negative pause duration', () => {
    const errors = errorsFor((doc) => (doc.spec.strategy.canary.steps[3].pause.duration = '-10s'));
    expect(errors[0]).toContain('steps[3].pause.duration: Duration needs to be greater than 0');
  });

  it('rejects a step with two actions and an empty step', () => {
    const errors = errorsFor((doc) => {
      doc.spec.strategy.canary.steps[0] = { setWeight: 5, pause: {} };
      doc.spec.strategy.canary.steps[1] = {};
    });
    expect(errors).toEqual([
      expect.stringContaining('steps[0]: a step must have exactly one action, found 2: setWeight, pause'),
      expect.stringContaining('steps[1]: Step must have one of the following set'),
    ]);
  });

  it('names Argo actions it does not run instead of ignoring them', () => {
    const errors = errorsFor(
      (doc) => (doc.spec.strategy.canary.steps[1] = { experiment: { templates: [] } }),
    );
    expect(errors).toEqual([
      expect.stringContaining("steps[1].experiment: step action 'experiment' is not supported"),
    ]);
  });

  it('requires exactly one of virtualService and virtualServices', () => {
    const both = errorsFor((doc) => {
      const istio = doc.spec.strategy.canary.trafficRouting.istio;
      istio.virtualService = istio.virtualServices[0];
    });
    expect(both).toEqual([
      expect.stringContaining(
        'trafficRouting.istio: exactly one of virtualService or virtualServices must be set, found both',
      ),
    ]);
    const neither = errorsFor((doc) => delete doc.spec.strategy.canary.trafficRouting.istio.virtualServices);
    expect(neither[0]).toContain('found neither');
  });

  it('requires canaryService and stableService, and that they differ', () => {
    const missing = errorsFor((doc) => delete doc.spec.strategy.canary.canaryService);
    expect(missing).toEqual([`spec.strategy.canary.canaryService: ${MESSAGES.trafficRouting}`]);
    const same = errorsFor((doc) => (doc.spec.strategy.canary.canaryService = 'rollouts-demo-stable'));
    expect(same).toEqual([
      expect.stringContaining(`spec.strategy.canary.stableService: ${MESSAGES.duplicatedServices}`),
    ]);
  });

  it('requires unique VirtualService names, comparing resolved namespaces', () => {
    const errors = errorsFor(
      (doc) =>
        (doc.spec.strategy.canary.trafficRouting.istio.virtualServices[1].name =
          'rollouts-demo-vsvc1.default'),
    );
    expect(errors).toEqual([
      expect.stringContaining('virtualServices[1].name: VirtualService names must be unique'),
    ]);
  });

  it('says what a field of the wrong type should be, and "is required" only for a missing one', () => {
    expect(errorsFor((doc) => (doc.spec.strategy.canary.steps = { setWeight: 5 }))).toEqual([
      'spec.strategy.canary.steps: expected array, received object',
    ]);
  });

  it('requires the workload for apply but not for preview', () => {
    const errors = errorsFor((doc) => delete doc.spec.workload);
    expect(errors).toEqual(['spec.workload: is required']);
    const doc = structuredClone(demoRolloutDocument()) as any;
    delete doc.spec.workload;
    expect(parseTrafficSpec(doc).ok).toBe(true);
  });

  it('rejects an invalid trigger tag pattern', () => {
    const errors = errorsFor((doc) => (doc.spec.trigger.tagPattern = '(['));
    expect(errors).toEqual([
      "spec.trigger.tagPattern: '([' is not an RE2 regular expression: error parsing regexp: missing closing ]: `[`",
    ]);
  });

  it('collects every error at once', () => {
    const errors = errorsFor((doc) => {
      doc.spec.strategy.canary.steps[0].setWeight = 200;
      doc.spec.strategy.canary.steps[3].pause.duration = 'x';
      delete doc.spec.strategy.canary.stableService;
    });
    expect(errors).toHaveLength(3);
  });
});

describe('YAML documents', () => {
  it('reads several documents and skips empty ones', () => {
    const parsed = parseYamlDocuments('a: 1\n---\n---\nb: 2\n', 'x.yaml');
    expect(parsed).toEqual({ ok: true, value: [{ a: 1 }, { b: 2 }] });
  });
  it('names the file, document and line of a syntax error', () => {
    const parsed = parseYamlDocuments('a: 1\n---\nb: [1, 2\n', 'x.yaml');
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.error[0]).toMatch(/^x\.yaml: document 2, line \d+:/);
  });
  it('refuses an alias bomb with an error, not a crash', () => {
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 12; i++)
      lines.push(
        `a${i}: &a${i} [${Array(10)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      );
    expect(parseYamlDocuments(`kind: Rollout\n---\n${lines.join('\n')}\n`, 'bomb.yaml')).toEqual({
      ok: false,
      error: ['bomb.yaml: document 2: Excessive alias count indicates a resource exhaustion attack'],
    });
  });
});
