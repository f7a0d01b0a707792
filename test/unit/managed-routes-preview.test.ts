/**
 * `rollouts preview --step N` on Argo Rollouts' own header and mirror manifests (its e2e suites,
 * its example and its documentation): the VirtualServices Argo's tests assert, step by step.
 */
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { preview, type PreviewPoint } from '../../lib/app/cli/preview.js';
import type { Route, VirtualService } from '../../lib/core/model/virtualservice.js';

const source = (path: string) => ({ path, text: readFileSync(path, 'utf8') });

function previewAt(rollout: string, vs: string, at: PreviewPoint): VirtualService[] {
  const result = preview(source(rollout), [source(vs)], at, 'yaml');
  if (!result.ok) throw new Error(result.error.join('\n'));
  return parseAllDocuments(result.value).map((doc) => doc.toJS() as VirtualService);
}

const HR = 'test/fixtures/argo/istio-hr-host.yaml';
const MIRROR = 'test/fixtures/argo/istio-mirror-host.yaml';
const EXAMPLE = 'test/fixtures/argo/istio-mirror-example.yaml';
const DOCS_VS = 'test/fixtures/argo/docs-header-and-mirror.yaml';
const DOCS_MIRROR = 'test/fixtures/argo/docs-mirror.yaml';

const http = (vs: VirtualService[]) => vs[0]?.spec.http ?? [];
const names = (vs: VirtualService[]) => http(vs).map((route) => route.name ?? '');
/** Argo's assertDestination: the weight of a host's destination, a missing weight being 0. */
const weightOf = (route: Route | undefined, host: string) =>
  (route?.route ?? []).find((d) => d.destination?.host === host)?.weight ?? 0;

describe('Argo e2e TestIstioHostHeaderRoute (header-routing/istio-hr-host.yaml)', () => {
  it('step 3 (first pause): set-header-1 on top to canary-service 100, primary 80/20', () => {
    const vs = previewAt(HR, HR, { step: 3 });
    expect(names(vs)).toEqual(['set-header-1', 'primary']);
    expect(http(vs)[0]).toEqual({
      match: [{ headers: { agent: { regex: 'firefox(.*)' } } }],
      name: 'set-header-1',
      route: [{ destination: { host: 'canary-service' }, weight: 100 }],
    });
    expect([weightOf(http(vs)[1], 'stable-service'), weightOf(http(vs)[1], 'canary-service')]).toEqual([
      80, 20,
    ]);
  });

  it('step 5 (second pause): the same route now matches chrome(.*)', () => {
    const vs = previewAt(HR, HR, { step: 5 });
    expect(names(vs)).toEqual(['set-header-1', 'primary']);
    expect(http(vs)[0]?.match).toEqual([{ headers: { agent: { regex: 'chrome(.*)' } } }]);
  });

  it('step 8 (third pause): the header route is gone and primary is at 60/40', () => {
    const vs = previewAt(HR, HR, { step: 8 });
    expect(names(vs)).toEqual(['primary']);
    expect([weightOf(http(vs)[0], 'stable-service'), weightOf(http(vs)[0], 'canary-service')]).toEqual([
      60, 40,
    ]);
  });
});

describe('Argo e2e TestIstioHostMirrorRoute (mirror-route/istio-mirror-host.yaml)', () => {
  it('step 4 (first pause): mirror-route-1 (100%) then mirror-route-2 (80%), both carrying 80/20, above primary', () => {
    const vs = previewAt(MIRROR, MIRROR, { step: 4 });
    expect(names(vs)).toEqual(['mirror-route-1', 'mirror-route-2', 'primary']);
    expect(http(vs)[0]).toEqual({
      match: [{ uri: { prefix: '/' } }],
      mirror: { host: 'canary-service' },
      mirrorPercentage: { value: 100 },
      name: 'mirror-route-1',
      route: [
        { destination: { host: 'stable-service' }, weight: 80 },
        { destination: { host: 'canary-service' }, weight: 20 },
      ],
    });
    expect(http(vs)[1]).toMatchObject({
      match: [{ method: { exact: 'GET' }, uri: { prefix: '/' } }],
      mirrorPercentage: { value: 80 },
      name: 'mirror-route-2',
    });
    for (const route of http(vs))
      expect([weightOf(route, 'stable-service'), weightOf(route, 'canary-service')]).toEqual([80, 20]);
  });

  it('step 6: mirror-route-1 matches /rewrite now, still first', () => {
    const vs = previewAt(MIRROR, MIRROR, { step: 6 });
    expect(names(vs)).toEqual(['mirror-route-1', 'mirror-route-2', 'primary']);
    expect(http(vs)[0]?.match).toEqual([{ uri: { prefix: '/rewrite' } }]);
  });

  it('step 9 (third pause): mirror-route-2 first with 60/40, primary 60/40', () => {
    const vs = previewAt(MIRROR, MIRROR, { step: 9 });
    expect(names(vs)).toEqual(['mirror-route-2', 'primary']);
    for (const route of http(vs))
      expect([weightOf(route, 'stable-service'), weightOf(route, 'canary-service')]).toEqual([60, 40]);
  });
});

describe("Argo's documented examples", () => {
  it('header example: three match entries become three match blocks (OR); removed at step 4', () => {
    const docsHeader = DOCS_VS;
    const at2 = previewAt(docsHeader, DOCS_VS, { step: 2 });
    expect(http(at2)[0]).toEqual({
      match: [
        { headers: { 'Custom-Header1': { exact: 'Mozilla' } } },
        { headers: { 'Custom-Header2': { prefix: 'Mozilla' } } },
        { headers: { 'Custom-Header3': { regex: 'Mozilla(.*)' } } },
      ],
      name: 'set-header-1',
      route: [{ destination: { host: 'canary-service' }, weight: 100 }],
    });
    expect(names(previewAt(docsHeader, DOCS_VS, { step: 4 }))).toEqual(['']);
  });

  it('mirror example (after setCanaryScale, which moves no traffic): 35% of GET / mirrored, removed at step 4', () => {
    const at2 = previewAt(DOCS_MIRROR, DOCS_VS, { step: 2 });
    expect(http(at2)[0]).toEqual({
      match: [{ method: { exact: 'GET' }, uri: { prefix: '/' } }],
      mirror: { host: 'canary-service' },
      mirrorPercentage: { value: 35 },
      name: 'mirror-route',
      // Argo copies the weighted route's destinations leaving a weight of 0 out.
      route: [
        { destination: { host: 'stable-service' }, weight: 100 },
        { destination: { host: 'canary-service' } },
      ],
    });
    expect(http(at2)[1]).toEqual(
      (parseAllDocuments(readFileSync(DOCS_VS, 'utf8'))[0]?.toJS() as VirtualService).spec.http?.[0],
    );
    expect(names(previewAt(DOCS_MIRROR, DOCS_VS, { step: 4 }))).toEqual(['']);
  });

  it("examples/istio/istio-mirror.yaml: step 3 mirrors 50% of POST /color above 'primary'", () => {
    const vs = previewAt(EXAMPLE, EXAMPLE, { step: 3 });
    expect(names(vs)).toEqual(['mirror-route', 'primary']);
    expect(http(vs)[0]).toMatchObject({
      match: [{ method: { exact: 'POST' }, uri: { prefix: '/color' } }],
      mirror: { host: 'istio-host-split-canary' },
      mirrorPercentage: { value: 50 },
    });
  });
});

describe('preview --step with several VirtualServices', () => {
  const vsText = (name: string, port: number) => `
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: ${name}}
spec:
  hosts: [${name}.local]
  http:
  - name: primary
    route:
    - {destination: {host: stable-service, port: {number: ${port}}}, weight: 100}
    - {destination: {host: canary-service, port: {number: ${port}}}, weight: 0}
`;
  const rollout = {
    path: 'rollout.yaml',
    text: `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: two}
spec:
  strategy:
    canary:
      canaryService: canary-service
      stableService: stable-service
      trafficRouting:
        managedRoutes: [{name: h}, {name: m}]
        istio:
          virtualServices:
          - {name: vs-b, routes: [primary]}
          - {name: vs-a, routes: [primary]}
      steps:
      - setHeaderRoute: {name: h, match: [{headerName: x-canary, headerValue: {exact: 'yes'}}]}
      - setWeight: 10
      - setMirrorRoute: {name: m, percentage: 25, match: [{path: {prefix: /api}}]}
`,
  };
  const expected = (name: string, port: number) => ({
    name,
    http: [
      {
        name: 'h',
        match: [{ headers: { 'x-canary': { exact: 'yes' } } }],
        route: [{ destination: { host: 'canary-service', port: { number: port } }, weight: 100 }],
      },
      {
        name: 'm',
        match: [{ uri: { prefix: '/api' } }],
        mirror: { host: 'canary-service', port: { number: port } },
        mirrorPercentage: { value: 25 },
        route: [
          { destination: { host: 'stable-service', port: { number: port } }, weight: 90 },
          { destination: { host: 'canary-service', port: { number: port } }, weight: 10 },
        ],
      },
      {
        name: 'primary',
        route: [
          { destination: { host: 'stable-service', port: { number: port } }, weight: 90 },
          { destination: { host: 'canary-service', port: { number: port } }, weight: 10 },
        ],
      },
    ],
  });
  const shape = (text: string, format: 'yaml' | 'json') =>
    (format === 'json' ? JSON.parse(text) : parseAllDocuments(text).map((doc) => doc.toJS())).map(
      (vs: VirtualService) => ({ name: vs.metadata.name, http: vs.spec.http }),
    );

  it('writes each VirtualService the Rollout names, in its order, from separate files or one multi-document file', () => {
    const separate = [
      { path: 'a.yaml', text: vsText('vs-a', 8080) },
      { path: 'b.yaml', text: vsText('vs-b', 80) },
    ];
    const together = [{ path: 'ab.yaml', text: `${vsText('vs-a', 8080)}---${vsText('vs-b', 80)}` }];
    for (const files of [separate, together])
      for (const format of ['yaml', 'json'] as const) {
        const result = preview(rollout, files, { step: 3 }, format);
        if (!result.ok) throw new Error(result.error.join('\n'));
        expect(shape(result.value, format)).toEqual([expected('vs-b', 80), expected('vs-a', 8080)]);
      }
  });

  it('names a VirtualService missing from the files, and one defined twice differently, with what the files hold', () => {
    expect(preview(rollout, [{ path: 'a.yaml', text: vsText('vs-a', 80) }], { step: 1 }, 'yaml')).toEqual({
      ok: false,
      error: [
        "rollout.yaml: Rollout default/two: VirtualService default/vs-b (referenced as 'vs-b') is not in the --virtualservice files; they hold default/vs-a",
      ],
    });
    const twice = [
      { path: 'a.yaml', text: `${vsText('vs-a', 80)}---${vsText('vs-b', 80)}` },
      { path: 'b.yaml', text: vsText('vs-b', 8080) },
    ];
    expect(preview(rollout, twice, { step: 1 }, 'yaml')).toEqual({
      ok: false,
      error: [
        'rollout.yaml: Rollout default/two: VirtualService default/vs-b is defined 2 times, differently, in the --virtualservice files',
      ],
    });
    const same = [{ path: 'a.yaml', text: `${vsText('vs-a', 80)}---${vsText('vs-b', 80)}` }];
    expect(preview(rollout, [...same, ...same], { step: 1 }, 'yaml').ok).toBe(true);
  });
});

describe('preview --step errors', () => {
  it('reads the VirtualServices from the Rollout file when no --virtualservice file is given, and says so when it holds none', () => {
    expect(preview(source(HR), [], { step: 3 }, 'yaml')).toEqual(
      preview(source(HR), [source(HR)], { step: 3 }, 'yaml'),
    );
    const rolloutOnly = {
      path: 'rollout.yaml',
      text: 'apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: r}\nspec: {strategy: {canary: {canaryService: c, stableService: s, trafficRouting: {istio: {virtualService: {name: v}}}, steps: [{setWeight: 5}]}}}\n',
    };
    expect(preview(rolloutOnly, [], { step: 1 }, 'yaml')).toEqual({
      ok: false,
      error: [
        'rollout.yaml: no VirtualService in this file; give the VirtualServices with --virtualservice vs.yaml',
      ],
    });
  });

  it('refuses a malformed VirtualService with the field path, what was expected and what was found', () => {
    const vsFile = (spec: string) => ({
      path: 'vs.yaml',
      text: `apiVersion: networking.istio.io/v1beta1\nkind: VirtualService\nmetadata: {name: rollouts-demo-vsvc}\n${spec}`,
    });
    expect(preview(source(HR), [vsFile('spec: {http: {primary: {}}}\n')], { step: 3 }, 'yaml')).toEqual({
      ok: false,
      error: ['vs.yaml: VirtualService rollouts-demo-vsvc: spec.http: expected array, received object'],
    });
    const weight = vsFile(
      "spec: {http: [{name: primary, route: [{destination: {host: stable-service}, weight: '80'}]}]}\n",
    );
    expect(preview(source(HR), [weight], { step: 3 }, 'yaml')).toEqual({
      ok: false,
      error: [
        'vs.yaml: VirtualService rollouts-demo-vsvc: spec.http[0].route[0].weight: expected number, received string',
      ],
    });
  });

  it('names the allowed range', () => {
    expect(preview(source(HR), [source(HR)], { step: 9 }, 'yaml')).toEqual({
      ok: false,
      error: [`${HR}: Rollout default/rollouts-demo: --step must be a step number from 1 to 8, found 9`],
    });
  });

  it('through the CLI: one of --weight and --step, and -o json', () => {
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ['bin/rollouts.js', 'preview', '-f', HR, '--virtualservice', HR, ...args], {
        encoding: 'utf8',
      });
    const both = run('--step', '2', '--weight', '5');
    expect([both.status, both.stderr]).toEqual([
      2,
      'rollouts preview: give exactly one of --weight N and --step N\n',
    ]);
    const alone = spawnSync(process.execPath, ['bin/rollouts.js', 'preview', '-f', HR, '--step', '2'], {
      encoding: 'utf8',
    });
    expect([alone.status, alone.stderr]).toEqual([0, '']);
    const json = run('--step', '2', '-o', 'json');
    expect(json.status).toBe(0);
    expect(JSON.parse(json.stdout)[0].spec.http.map((r: Route) => r.name)).toEqual([
      'set-header-1',
      'primary',
    ]);
  });
});
