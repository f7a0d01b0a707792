/** Where the runner may act: each cluster's namespaces, DNS-1123 names, and the generated RBAC. */
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { applyFiles, type CommandOutput } from '../../lib/app/cli/store-commands.js';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { connect, type Connection } from '../../lib/app/cli/connection.js';
import { checkScope, clusterRegistrySchema, type ClusterScope } from '../../lib/core/model/clusters.js';
import { parseRollout } from '../../lib/core/model/rollout.js';
import {
  runnerAccessManifests,
  runnerAdmissionPolicy,
  runnerRbac,
  RUNNER_RULES,
} from '../../lib/core/model/runner-access.js';
import { demoRollout, demoRolloutDocument } from './fixtures.js';

const SHOP = { name: 'prod', namespaces: ['shop', 'payments'] };

describe('a cluster serves the namespaces it lists', () => {
  it('accepts a Rollout whose namespace and VirtualServices are all served', () => {
    const rollout = demoRollout((doc) => {
      doc.metadata.namespace = 'shop';
      doc.spec.cluster = 'prod';
      doc.spec.strategy.canary.trafficRouting.istio.virtualServices[1].name = 'rollouts-demo-vsvc2.payments';
    });
    expect(checkScope(rollout, [SHOP])).toEqual({ ok: true, value: undefined });
  });

  it('refuses a Rollout outside the list, naming the cluster and what it serves', () => {
    const rollout = demoRollout((doc) => {
      doc.metadata.namespace = 'kube-system';
      doc.spec.cluster = 'prod';
    });
    expect(checkScope(rollout, [SHOP])).toEqual({
      ok: false,
      error: [
        "metadata.namespace: namespace 'kube-system' is not allowed: cluster 'prod' serves namespaces shop, payments only",
        "spec.strategy.canary.trafficRouting.istio.virtualServices[0].name: VirtualService 'rollouts-demo-vsvc1' (kube-system/rollouts-demo-vsvc1) is in namespace 'kube-system', which is not allowed: cluster 'prod' serves namespaces shop, payments only",
        "spec.strategy.canary.trafficRouting.istio.virtualServices[1].name: VirtualService 'rollouts-demo-vsvc2' (kube-system/rollouts-demo-vsvc2) is in namespace 'kube-system', which is not allowed: cluster 'prod' serves namespaces shop, payments only",
      ],
    });
  });

  it('refuses a VirtualService reference into another namespace (name.namespace)', () => {
    const rollout = demoRollout((doc) => {
      doc.metadata.namespace = 'shop';
      doc.spec.cluster = 'prod';
      doc.spec.strategy.canary.trafficRouting.istio.virtualServices[1].name = 'istio-gateway.istio-system';
    });
    const checked = checkScope(rollout, [SHOP]);
    expect(checked.ok).toBe(false);
    expect(!checked.ok && checked.error).toEqual([
      expect.stringContaining(
        "virtualServices[1].name: VirtualService 'istio-gateway.istio-system' (istio-system/istio-gateway) is in namespace 'istio-system', which is not allowed: cluster 'prod' serves namespaces shop, payments only",
      ),
    ]);
  });

  it('refuses a Rollout for a cluster that is not registered', () => {
    expect(checkScope(demoRollout(), [SHOP])).toEqual({
      ok: false,
      error: ["spec.cluster: cluster 'default' is not registered (registered: prod)"],
    });
  });

  it('requires every registered cluster to list DNS-1123 namespaces, each once', () => {
    const kubeconfig = { path: '/k' };
    const issues = (namespaces: unknown) => {
      const parsed = clusterRegistrySchema.safeParse([{ name: 'prod', kubeconfig, namespaces }]);
      return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(issues(undefined).join()).toContain('namespaces');
    expect(issues([])).toEqual([
      '0.namespaces: must list the namespaces the runner may act in, e.g. [shop, payments]',
    ]);
    expect(issues(['shop', 'shop'])).toEqual(['0.namespaces: lists shop twice']);
    expect(issues(['Shop_1']).join()).toContain("'Shop_1' must be a DNS-1123 label");
    expect(issues(['shop'])).toEqual([]);
  });
});

describe('names are DNS-1123 at apply and lint, with field paths', () => {
  const errors = (change: (doc: any) => void) => {
    const doc = structuredClone(demoRolloutDocument()) as any;
    change(doc);
    const parsed = parseRollout(doc);
    return parsed.ok ? [] : parsed.error;
  };

  it('namespace: a label', () => {
    expect(errors((doc) => (doc.metadata.namespace = 'Kube_System'))).toEqual([
      expect.stringMatching(/^metadata\.namespace: 'Kube_System' must be a DNS-1123 label/),
    ]);
    expect(errors((doc) => (doc.metadata.namespace = 'a'.repeat(64)))).toEqual([
      expect.stringMatching(/^metadata\.namespace: 'a{64}' must be a DNS-1123 label: at most 63/),
    ]);
  });

  it('Deployment names: subdomains; Service names: labels', () => {
    expect(
      errors((doc) => {
        doc.spec.workload.stableDeployment = 'web.v1';
        doc.spec.workload.canaryDeployment = '../secrets';
        doc.spec.strategy.canary.canaryService = 'Canary';
      }),
    ).toEqual([
      expect.stringMatching(
        /^spec\.workload\.canaryDeployment: '\.\.\/secrets' must be a DNS-1123 subdomain/,
      ),
      expect.stringMatching(/^spec\.strategy\.canary\.canaryService: 'Canary' must be a DNS-1123 label/),
    ]);
  });

  it('VirtualService references: name a subdomain, namespace a label', () => {
    expect(
      errors((doc) => {
        doc.spec.strategy.canary.trafficRouting.istio.virtualServices[0].name = 'vs.Bad_NS';
        doc.spec.strategy.canary.trafficRouting.istio.virtualServices[1].name = 'UPPER';
      }),
    ).toEqual([
      expect.stringMatching(
        /^spec\.strategy\.canary\.trafficRouting\.istio\.virtualServices\[0\]\.name: in the reference 'vs\.Bad_NS', 'Bad_NS' must be a DNS-1123 label/,
      ),
      expect.stringMatching(
        /^spec\.strategy\.canary\.trafficRouting\.istio\.virtualServices\[1\]\.name: in the reference 'UPPER', 'UPPER' must be a DNS-1123 subdomain/,
      ),
    ]);
  });

  it('rollouts lint reports them with the file and field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'scope-'));
    const file = join(dir, 'rollout.yaml');
    writeFileSync(
      file,
      readFileSync('examples/istio-demo/rollout.yaml', 'utf8').replace(
        'namespace: default',
        'namespace: Default',
      ),
    );
    const result = spawnSync(process.execPath, ['bin/rollouts.js', 'lint', '-f', file], { encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("metadata.namespace: 'Default' must be a DNS-1123 label");
  });
});

describe('rollouts apply refuses what the cluster does not serve', () => {
  const connection = (registry?: readonly ClusterScope[]) => {
    const applied: unknown[] = [];
    const store = { apply: async (rollout: unknown) => (applied.push(rollout), { created: true }) };
    return {
      applied,
      connection: { store, ...(registry ? { registry: async () => registry } : {}) } as unknown as Connection,
    };
  };
  const demo = { path: 'rollout.yaml', text: readFileSync('examples/istio-demo/rollout.yaml', 'utf8') };

  it('names the cluster and its namespaces, and applies nothing', async () => {
    const { applied, connection: refusing } = connection([{ name: 'default', namespaces: ['shop'] }]);
    const output: CommandOutput = await applyFiles(refusing, [demo], 0);
    expect(output).toEqual({
      ok: false,
      stderr: expect.stringContaining(
        "rollout.yaml: metadata.namespace: namespace 'default' is not allowed: cluster 'default' serves namespaces shop only",
      ),
    });
    expect(!output.ok && output.stderr).toContain('nothing applied');
    expect(applied).toEqual([]);
  });

  it('applies a Rollout inside the list', async () => {
    const { applied, connection: serving } = connection([{ name: 'default', namespaces: ['default'] }]);
    expect(await applyFiles(serving, [demo], 0)).toMatchObject({ ok: true });
    expect(applied).toHaveLength(1);
  });
});

describe('the CLI learns the namespaces from where it finds the store', () => {
  it("reads a deployed stack's ClusterNamespaces output", async () => {
    const cloudFormation = mockClient(CloudFormationClient);
    const outputs = (registry: string) => ({
      Stacks: [
        {
          StackName: 'rollouts',
          CreationTime: new Date(),
          StackStatus: 'CREATE_COMPLETE' as const,
          Outputs: [
            { OutputKey: 'TableName', OutputValue: 'table' },
            { OutputKey: 'ClusterNamespaces', OutputValue: registry },
          ],
        },
      ],
    });
    cloudFormation
      .on(DescribeStacksCommand, { StackName: 'rollouts' })
      .resolves(outputs(JSON.stringify([SHOP])));
    cloudFormation
      .on(DescribeStacksCommand, { StackName: 'bad' })
      .resolves(outputs('[{"name":"prod","namespaces":["Shop"]}]'));
    const connection = await connect({ stack: 'rollouts' }, { AWS_REGION: 'eu-west-1' });
    expect(await connection.registry?.()).toEqual([SHOP]);
    await expect(connect({ stack: 'bad' }, { AWS_REGION: 'eu-west-1' })).rejects.toThrow(
      "stack bad: output ClusterNamespaces: 0.namespaces.0: 'Shop' must be a DNS-1123 label",
    );
    cloudFormation.restore();
  });
});

describe('the generated RBAC', () => {
  it('is a Role and RoleBinding per served namespace for the runners group, nothing cluster-wide', () => {
    const objects = runnerRbac(SHOP);
    expect(objects.map((o) => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`)).toEqual([
      'Role shop/serverless-rollouts-runner',
      'RoleBinding shop/serverless-rollouts-runner',
      'Role payments/serverless-rollouts-runner',
      'RoleBinding payments/serverless-rollouts-runner',
    ]);
    expect(objects[1]).toMatchObject({
      roleRef: { kind: 'Role', name: 'serverless-rollouts-runner' },
      subjects: [{ kind: 'Group', name: 'serverless-rollouts:runners' }],
    });
  });

  it('grants only the requests lib/adapters/kube makes (no services, no create, no delete)', () => {
    expect(RUNNER_RULES).toEqual([
      { apiGroups: ['networking.istio.io'], resources: ['virtualservices'], verbs: ['get', 'patch'] },
      { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'patch', 'watch'] },
      { apiGroups: ['apps'], resources: ['deployments/scale'], verbs: ['patch'] },
    ]);
  });

  it('deploy/runner-access.yaml is the generated output for the demo cluster', () => {
    expect(readFileSync('deploy/runner-access.yaml', 'utf8')).toBe(
      runnerAccessManifests({ name: 'default', namespaces: ['default'] }),
    );
  });

  it('rollouts rbac --cluster prints it from a cdk.json registry', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rbac-'));
    const config = join(dir, 'cdk.json');
    const prod = {
      name: 'prod',
      namespaces: ['shop', 'payments'],
      eks: { clusterName: 'p', region: 'eu-west-1' },
    };
    writeFileSync(config, JSON.stringify({ context: { serverlessRollouts: { clusters: [prod] } } }));
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ['bin/rollouts.js', 'rbac', ...args], { encoding: 'utf8' });

    const printed = run('--cluster', 'prod', '--config', config);
    expect(printed.status).toBe(0);
    expect(printed.stdout).toBe(runnerAccessManifests(prod));
    const kinds = parseAllDocuments(printed.stdout).map((doc) => doc.toJS().kind);
    expect(kinds).toEqual([
      'Role',
      'RoleBinding',
      'Role',
      'RoleBinding',
      'ValidatingAdmissionPolicy',
      'ValidatingAdmissionPolicyBinding',
    ]);

    const unknown = run('--cluster', 'staging', '--config', config);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toBe(`cluster 'staging' is not in ${config} (registered: prod)\n`);
    expect(run('--config', config).stderr).toContain('--cluster NAME is required');
  });

  it('has an admission policy bound to every namespace, for the runners group only', () => {
    const [policy, binding] = runnerAdmissionPolicy() as any[];
    expect(policy.spec.matchConditions).toEqual([
      { name: 'runners-only', expression: "'serverless-rollouts:runners' in request.userInfo.groups" },
    ]);
    expect(policy.spec.failurePolicy).toBe('Fail');
    expect(binding.spec).toEqual({ policyName: policy.metadata.name, validationActions: ['Deny'] });
  });
});
