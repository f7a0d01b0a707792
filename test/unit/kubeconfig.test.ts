import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { kubeconfigFileAuth, resolveContext, staticAuth } from '../../lib/adapters/kube/kubeconfig.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');

const config = (users: Record<string, unknown>, cluster: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Config',
  'current-context': 'admin',
  clusters: [
    {
      name: 'sandbox',
      cluster: { server: 'https://127.0.0.1:6443', 'certificate-authority-data': b64('CA PEM'), ...cluster },
    },
  ],
  users: Object.entries(users).map(([name, user]) => ({ name, user })),
  contexts: Object.keys(users).map((name) => ({ name, context: { cluster: 'sandbox', user: name } })),
});

async function applied(credentials: Parameters<typeof staticAuth>[0]): Promise<RequestOptions> {
  const options: RequestOptions = { method: 'GET', headers: { accept: 'application/json' } };
  await staticAuth(credentials).apply(options);
  return options;
}

describe('kubeconfig contexts read without the Kubernetes client library', () => {
  it('take the current context by default and a bearer token with the cluster CA', async () => {
    const resolved = resolveContext(
      config({ admin: { token: 'A' }, runner: { token: 'R' } }),
      '/k',
      undefined,
    );
    expect(resolved).toEqual({
      ok: true,
      value: { server: 'https://127.0.0.1:6443', ca: { data: b64('CA PEM') }, token: { data: 'A' } },
    });
    if (!resolved.ok || resolved.value === 'dynamic') throw new Error('static credentials expected');
    const options = await applied(resolved.value);
    expect(options.ca).toEqual(Buffer.from('CA PEM'));
    expect(options.headers).toEqual({ accept: 'application/json', authorization: 'Bearer A' });
  });

  it('take the named context', () => {
    const resolved = resolveContext(
      config({ admin: { token: 'A' }, runner: { token: 'R' } }),
      '/k',
      'runner',
    );
    expect(resolved.ok && resolved.value !== 'dynamic' && resolved.value.token).toEqual({ data: 'R' });
  });

  it('read client certificates, keys, CA and token files relative to the kubeconfig, at each request', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));
    writeFileSync(join(dir, 'ca.crt'), 'FILE CA');
    writeFileSync(join(dir, 'user.crt'), 'FILE CERT');
    writeFileSync(join(dir, 'user.key'), 'FILE KEY');
    writeFileSync(join(dir, 'token'), 'first\n');
    const path = join(dir, 'kubeconfig');
    writeFileSync(
      path,
      stringify(
        config(
          {
            admin: {
              'client-certificate': 'user.crt',
              'client-key': 'user.key',
              tokenFile: 'token',
              as: 'jane',
            },
          },
          {
            'certificate-authority-data': undefined,
            'certificate-authority': 'ca.crt',
            'tls-server-name': 'api',
          },
        ),
      ),
    );
    const auth = await kubeconfigFileAuth(path);
    const options: RequestOptions = { headers: {} };
    await auth.apply(options);
    expect(auth.server).toBe('https://127.0.0.1:6443');
    expect(options).toEqual({
      ca: Buffer.from('FILE CA'),
      cert: Buffer.from('FILE CERT'),
      key: Buffer.from('FILE KEY'),
      servername: 'api',
      headers: { authorization: 'Bearer first', 'Impersonate-User': 'jane' },
    });
    writeFileSync(join(dir, 'token'), 'rotated\n');
    const again: RequestOptions = { headers: {} };
    await auth.apply(again);
    expect(again.headers).toMatchObject({ authorization: 'Bearer rotated' });
  });

  it('carry certificate data, basic auth and an unverified server as kubectl does', async () => {
    const resolved = resolveContext(
      config(
        {
          admin: {
            'client-certificate-data': b64('CERT'),
            'client-key-data': b64('KEY'),
            username: 'u',
            password: 'p',
          },
        },
        { 'insecure-skip-tls-verify': true },
      ),
      '/k',
      undefined,
    );
    if (!resolved.ok || resolved.value === 'dynamic') throw new Error('static credentials expected');
    expect(await applied(resolved.value)).toEqual({
      method: 'GET',
      ca: Buffer.from('CA PEM'),
      cert: Buffer.from('CERT'),
      key: Buffer.from('KEY'),
      rejectUnauthorized: false,
      auth: 'u:p',
      headers: { accept: 'application/json' },
    });
  });

  it('leave exec plugins, auth providers and proxies to the client library', () => {
    const exec = {
      apiVersion: 'client.authentication.k8s.io/v1beta1',
      command: 'aws',
      args: ['eks', 'get-token'],
    };
    expect(resolveContext(config({ admin: { exec } }), '/k', undefined)).toEqual({
      ok: true,
      value: 'dynamic',
    });
    expect(resolveContext(config({ admin: { 'auth-provider': { name: 'oidc' } } }), '/k', undefined)).toEqual(
      {
        ok: true,
        value: 'dynamic',
      },
    );
    expect(
      resolveContext(
        config({ admin: { token: 'A' } }, { 'proxy-url': 'http://proxy:3128' }),
        '/k',
        undefined,
      ),
    ).toEqual({ ok: true, value: 'dynamic' });
  });

  it('name what is missing: the context, its cluster, or a kubeconfig at all', async () => {
    expect(resolveContext(config({ admin: { token: 'A' } }), '/k', 'prod')).toEqual({
      ok: false,
      error: "context 'prod' not found (contexts: admin)",
    });
    const dangling = { ...config({ admin: { token: 'A' } }), clusters: [] };
    expect(resolveContext(dangling, '/k', undefined)).toEqual({
      ok: false,
      error: "context 'admin' names cluster 'sandbox', which is not defined",
    });
    const noCurrent = { ...config({ admin: { token: 'A' } }), 'current-context': undefined };
    expect(resolveContext(noCurrent, '/k', undefined)).toEqual({
      ok: false,
      error: 'no context given and no current-context set',
    });
    expect(resolveContext({ clusters: 'nope' }, '/k', undefined)).toEqual({
      ok: false,
      error: 'not a kubeconfig: clusters: Invalid input: expected array, received string',
    });
    expect(
      resolveContext({ clusters: [{ name: 'a', cluster: { server: 'not a url' } }] }, '/k', undefined),
    ).toEqual({ ok: false, error: 'not a kubeconfig: clusters.0.cluster.server: Invalid URL' });
    const broken = join(mkdtempSync(join(tmpdir(), 'kubeconfig-')), 'kubeconfig');
    writeFileSync(broken, 'clusters: [\n  - name: a\n');
    await expect(kubeconfigFileAuth(broken)).rejects.toThrow(`kubeconfig ${broken}: document 1, line`);
    await expect(kubeconfigFileAuth('/nonexistent/kubeconfig')).rejects.toThrow(
      /^kubeconfig \/nonexistent\/kubeconfig: ENOENT/,
    );
  });
});
