/** `rollouts lint -f` with AnalysisTemplates beside Rollouts (multi-document files), through the real CLI. */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { ARGO_SUCCESS_RATE } from './analysis-fixtures.js';
import { rollouts, temporaryFile as file } from './cli-process.js';

const ROLLOUT = readFileSync('examples/istio-demo/rollout.yaml', 'utf8');
const WITH_STEP = ROLLOUT.replace(
  '        - pause: {}',
  `        - analysis:
            templates: [{templateName: success-rate}]
            args: [{name: service-name, value: rollouts-demo-canary.default.svc.cluster.local}]`,
);
const GUARDED = ARGO_SUCCESS_RATE.replace(
  'successCondition: result[0] >= 0.95',
  'successCondition: len(result) > 0 && result[0] >= 0.95',
);

describe('rollouts lint with AnalysisTemplates', () => {
  it('checks a Rollout and its template in one multi-document file: OK, exit 0', () => {
    const path = file('all.yaml', `${GUARDED}\n---\n${WITH_STEP}`);
    const result = rollouts('lint', '-f', path);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split('\n')).toEqual([
      `${path}: AnalysisTemplate default/success-rate: OK, 1 metric(s)`,
      `${path}: Rollout default/rollouts-demo: OK`,
    ]);
  });

  it("warns about Argo's documented result[0] with no emptiness guard, and still exits 0", () => {
    const path = file('template.yaml', ARGO_SUCCESS_RATE);
    const result = rollouts('lint', '-f', path);
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split('\n')).toEqual([
      `${path}: AnalysisTemplate default/success-rate: warning: spec.metrics[0].successCondition: result[0] is read with no emptiness guard: an empty result makes the measurement an Error; guard it with len(result) > 0 && ... (or size(result))`,
      `${path}: AnalysisTemplate default/success-rate: OK, 1 metric(s)`,
    ]);
  });

  it('warns that an in-cluster Prometheus address cannot answer the runner, and still exits 0', () => {
    const inCluster = GUARDED.replace(
      'http://prometheus.example.com:9090',
      'http://prometheus-server.monitoring.svc.cluster.local:9090',
    );
    const viaArg = GUARDED.replace('http://prometheus.example.com:9090', '{{args.address}}').replace(
      '  - name: service-name',
      '  - name: service-name\n  - name: address',
    );
    const path = file(
      'templates.yaml',
      `${inCluster}\n---\n${viaArg.replace('name: success-rate', 'name: by-arg')}`,
    );
    const result = rollouts('lint', '-f', path);
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split('\n')).toEqual([
      `${path}: AnalysisTemplate default/success-rate: warning: spec.metrics[0].provider.prometheus.address: http://prometheus-server.monitoring.svc.cluster.local:9090 is a Kubernetes in-cluster name: the runner runs outside the cluster (AWS Lambda) and cannot resolve it; expose it through a load balancer the runner can reach, or use Amazon Managed Prometheus (https://aps-workspaces.<region>.amazonaws.com/workspaces/<id> with authentication.sigv4)`,
      `${path}: AnalysisTemplate default/success-rate: OK, 1 metric(s)`,
      // An address given by an arg is checked when the run measures it.
      `${path}: AnalysisTemplate default/by-arg: OK, 1 metric(s)`,
    ]);
  });

  it('an expr-lang condition is an error naming the form and its CEL rewrite: exit 1', () => {
    const path = file(
      'template.yaml',
      GUARDED.replace('len(result) > 0 && result[0] >= 0.95', 'len(result) > 0 and result[0] >= 0.95'),
    );
    const result = rollouts('lint', '-f', path);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(
      `${path}: AnalysisTemplate default/success-rate: spec.metrics[0]: successCondition "len(result) > 0 and result[0] >= 0.95": not a valid CEL expression: Unexpected character: 'd'; 'and' is expr-lang: CEL writes '&&'; in CEL: len(result) > 0 && result[0] >= 0.95`,
    );
  });

  it('a Rollout that does not give a template arg its value is an error; a template not given is a warning', () => {
    const missingArg = file('all.yaml', `${GUARDED}\n---\n${WITH_STEP.replace(/ +args: .*\n/, '\n')}`);
    const failed = rollouts('lint', '-f', missingArg);
    expect(failed.code).toBe(1);
    expect(failed.stderr.trim().split('\n')).toEqual([
      `${missingArg}: AnalysisTemplate default/success-rate: OK, 1 metric(s)`,
      `${missingArg}: Rollout default/rollouts-demo: spec.strategy.canary.steps[1].analysis: Unable to resolve metric arguments: args.service-name was not resolved: the Rollout's analysis args give it no value`,
    ]);
    const alone = file('rollout.yaml', WITH_STEP);
    const warned = rollouts('lint', '-f', alone);
    expect(warned.code).toBe(0);
    expect(warned.stdout.trim().split('\n')).toEqual([
      `${alone}: Rollout default/rollouts-demo: warning: spec.strategy.canary.steps[1].analysis: AnalysisTemplate default/success-rate is not among the files given; apply it before the rollout reaches this analysis`,
      `${alone}: Rollout default/rollouts-demo: OK`,
    ]);
  });

  it('takes several -f files, and says when a file holds neither kind', () => {
    const template = file('template.yaml', GUARDED);
    const rollout = file('rollout.yaml', WITH_STEP);
    expect(rollouts('lint', '-f', template, '-f', rollout).code).toBe(0);
    const empty = file('empty.yaml', 'kind: ConfigMap\n');
    expect(rollouts('lint', '-f', empty).stderr.trim()).toBe(
      `${empty}: no Rollout or AnalysisTemplate found (kind: Rollout, AnalysisTemplate or ClusterAnalysisTemplate)`,
    );
  });

  it('names an unsupported provider and a secretKeyRef arg with the reason', () => {
    const path = file(
      'template.yaml',
      `apiVersion: argoproj.io/v1alpha1
kind: ClusterAnalysisTemplate
metadata: {name: dd}
spec:
  args: [{name: api-key, valueFrom: {secretKeyRef: {name: datadog, key: api-key}}}]
  metrics:
  - name: errors
    provider: {datadog: {query: "sum:errors{*}"}}
`,
    );
    const result = rollouts('lint', '-f', path);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      `${path}: ClusterAnalysisTemplate dd: spec.args[0].valueFrom.secretKeyRef: secretKeyRef is not supported: the runner has no access to Kubernetes Secrets; use valueFrom.secretsManager: {secretId, jsonKey}`,
      `${path}: ClusterAnalysisTemplate dd: spec.metrics[0].provider.datadog: provider 'datadog' is not supported by serverless-rollouts (supported: prometheus, cloudWatch, web)`,
    ]);
  });
});
