import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { rollouts, temporaryFile } from './cli-process.js';
import { readDocuments } from './fixtures.js';

const DEMO = [
  '-f',
  'examples/istio-demo/rollout.yaml',
  '--virtualservice',
  'examples/istio-demo/virtualservices.yaml',
];
const SEED = [
  '-f',
  'test/fixtures/seed/rollout.yaml',
  '--virtualservice',
  'test/fixtures/seed/multipleVirtualsvc.yaml',
];

describe('rollouts preview', () => {
  it('prints both VirtualServices at weight 5 exactly as the seed shows them, and nothing else', () => {
    const { code, stdout, stderr } = rollouts('preview', ...DEMO, '--weight', '5');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const printed = stdout.split(/^---$/m).map((doc) => parse(doc));
    expect(printed).toEqual(readDocuments('test/fixtures/seed/expected-weight-5.yaml'));
    // Text too, in kubectl's layout as the guide prints it (sequences not indented under their key).
    const expectedText = readFileSync('test/fixtures/seed/expected-weight-5.yaml', 'utf8').replace(
      /^#.*\n/gm,
      '',
    );
    expect(stdout).toBe(expectedText);
  });

  it('prints a JSON array of the full objects with -o json', () => {
    const { code, stdout } = rollouts('preview', ...DEMO, '--weight', '50', '-o', 'json');
    expect(code).toBe(0);
    const objects = JSON.parse(stdout);
    expect(objects.map((o: any) => o.metadata.name)).toEqual(['rollouts-demo-vsvc1', 'rollouts-demo-vsvc2']);
    expect(objects[1].spec.tcp[0].route.map((r: any) => r.weight)).toEqual([50, 50]);
  });

  it('needs only metadata and the canary block of the Rollout', () => {
    const document = parse(readFileSync('examples/istio-demo/rollout.yaml', 'utf8'));
    delete document.spec.workload;
    delete document.spec.cluster;
    const file = temporaryFile('rollout.yaml', JSON.stringify(document));
    const { code, stdout } = rollouts(
      'preview',
      '-f',
      file,
      '--virtualservice',
      'examples/istio-demo/virtualservices.yaml',
      '--weight',
      '5',
    );
    expect(code).toBe(0);
    expect(stdout).toContain('weight: 95');
  });

  it('exits 1 with the error on stderr and nothing on stdout when a reference is invalid', () => {
    const { code, stdout, stderr } = rollouts('preview', ...SEED, '--weight', '5');
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain(
      'VirtualService default/rollouts-demo-vsvc2: No matching TLS routes found in the defined Virtual Service.',
    );
  });

  it.each([
    ['--weight', '101'],
    ['--weight', 'x'],
    ['-o', 'xml', '--weight', '5'],
  ])('rejects bad flags %p with exit 2', (...flags) => {
    const { code, stdout, stderr } = rollouts('preview', ...DEMO, ...flags);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^rollouts preview: /);
  });

  it('reports an unreadable file', () => {
    const { code, stderr } = rollouts(
      'preview',
      '-f',
      'missing.yaml',
      '--virtualservice',
      'x.yaml',
      '--weight',
      '5',
    );
    expect(code).toBe(2);
    expect(stderr).toContain('cannot read missing.yaml: ENOENT');
  });
});

describe('rollouts lint', () => {
  it('says OK for the examples', () => {
    const { code, stdout } = rollouts('lint', ...DEMO);
    expect(code).toBe(0);
    expect(stdout).toBe(
      'examples/istio-demo/rollout.yaml: Rollout default/rollouts-demo: OK, 2 VirtualService(s) checked\n',
    );
  });

  it("reports the seed's own inconsistency clearly", () => {
    const { code, stderr } = rollouts('lint', ...SEED);
    expect(code).toBe(1);
    expect(stderr).toBe(
      'test/fixtures/seed/rollout.yaml: Rollout default/rollouts-demo: VirtualService default/rollouts-demo-vsvc2: No matching TLS routes found in the defined Virtual Service. Wanted port 443 and sniHosts [reviews.bookinfo.com, localhost]; found [0] port 443 sniHosts [reviews.bookinfo.com].\n',
    );
  });

  it('lists every spec error with its field path', () => {
    const broken = readFileSync('examples/istio-demo/rollout.yaml', 'utf8')
      .replace('setWeight: 50', 'setWeight: 500')
      .replace('duration: 30s', 'duration: soon');
    const file = temporaryFile('broken.yaml', broken);
    const result = rollouts('lint', '-f', file);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      `${file}: Rollout default/rollouts-demo: spec.strategy.canary.steps[2].setWeight: SetWeight needs to be between 0 and 100, found 500`,
      expect.stringContaining("spec.strategy.canary.steps[3].pause.duration: invalid duration 'soon'"),
    ]);
  });
});
