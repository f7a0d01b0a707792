/**
 * The mesh simulator's pure routing: weights split the draws exactly, header and uri matches pick
 * routes as Istio does, and bad demo images fail their share of requests.
 */
import { describe, expect, it } from '@jest/globals';
import { answer, isBadImage, pickDestination, routeRequest } from '../../lib/local/mesh-routing.js';
import type { VirtualService } from '../../lib/core/model/virtualservice.js';

const stable = { host: 'rollouts-demo-stable', port: { number: 15372 } };
const canary = { host: 'rollouts-demo-canary', port: { number: 15372 } };
const request = (headers: Record<string, string> = {}) => ({ path: '/color', headers });

function vs(http: NonNullable<VirtualService['spec']['http']>): VirtualService {
  return { kind: 'VirtualService', metadata: { name: 'vsvc' }, spec: { http } };
}

describe('the mesh simulator splits requests by the VirtualService', () => {
  it('sends each draw to the destination its weight covers', () => {
    const route = [
      { destination: stable, weight: 80 },
      { destination: canary, weight: 20 },
    ];
    const draws = Array.from({ length: 1000 }, (_, i) => i / 1000);
    const toCanary = draws.filter((draw) => pickDestination(route, draw) === canary).length;
    expect(toCanary).toBe(200);
    expect(pickDestination(route, 0)).toBe(stable);
    expect(pickDestination(route, 0.7999)).toBe(stable);
    expect(pickDestination(route, 0.8)).toBe(canary);
  });

  it('never picks a zero-weight destination, and a lone destination needs no weight', () => {
    const route = [
      { destination: stable, weight: 100 },
      { destination: canary, weight: 0 },
    ];
    expect(pickDestination(route, 0.9999)).toBe(stable);
    expect(pickDestination([{ destination: canary }], 0.5)).toBe(canary);
  });

  it('takes the first route whose header match applies, else the catch-all', () => {
    const service = vs([
      {
        name: 'canary-header',
        match: [{ headers: { 'X-Canary': { exact: 'yes' } } }],
        route: [{ destination: canary, weight: 100 }],
      },
      {
        name: 'primary',
        route: [
          { destination: stable, weight: 100 },
          { destination: canary, weight: 0 },
        ],
      },
    ]);
    expect(routeRequest(service, request({ 'x-canary': 'yes' }), 0.5)).toEqual({
      route: 'canary-header',
      destination: canary,
    });
    expect(routeRequest(service, request({ 'x-canary': 'no' }), 0.5)).toEqual({
      route: 'primary',
      destination: stable,
    });
    expect(routeRequest(service, request(), 0.5)).toEqual({ route: 'primary', destination: stable });
  });

  it('honours prefix, regex, withoutHeaders and uri matches, and answers nothing when no route applies', () => {
    const only = (match: unknown[]) => vs([{ name: 'r', match, route: [{ destination: canary }] }]);
    expect(
      routeRequest(
        only([{ headers: { 'x-user': { prefix: 'test-' } } }]),
        request({ 'x-user': 'test-1' }),
        0,
      ),
    ).toBeDefined();
    expect(
      routeRequest(only([{ headers: { 'x-user': { regex: 'a|b' } } }]), request({ 'x-user': 'ab' }), 0),
    ).toBeUndefined();
    expect(
      routeRequest(only([{ withoutHeaders: { 'x-user': {} } }]), request({ 'x-user': 'x' }), 0),
    ).toBeUndefined();
    expect(routeRequest(only([{ uri: { prefix: '/col' } }]), request(), 0)).toBeDefined();
    expect(
      routeRequest(only([{ uri: { exact: '/' } }, { uri: { exact: '/color' } }]), request(), 0),
    ).toBeDefined();
  });
});

describe('header and mirror routes as the Rollout writes them, in the mesh simulator', () => {
  const primary = {
    name: 'primary',
    route: [
      { destination: stable, weight: 100 },
      { destination: canary, weight: 0 },
    ],
  };
  const mirrorRoute = (percentage?: number) => ({
    name: 'mirror',
    match: [{ method: { exact: 'GET' }, uri: { prefix: '/api' } }],
    route: primary.route,
    mirror: canary,
    ...(percentage === undefined ? {} : { mirrorPercentage: { value: percentage } }),
  });
  const draws = Array.from({ length: 100 }, (_, i) => i / 100);

  it('at weight 0, sends a request with the header to the canary and the rest to stable', () => {
    const service = vs([
      {
        name: 'header',
        match: [
          { headers: { 'x-canary': { exact: 'yes' } } },
          { headers: { 'user-agent': { regex: 'Firefox.*' } } },
        ],
        route: [{ destination: canary, weight: 100 }],
      },
      primary,
    ]);
    expect(routeRequest(service, request({ 'x-canary': 'yes' }), 0.99)?.destination).toBe(canary);
    expect(routeRequest(service, request({ 'user-agent': 'Firefox/128' }), 0.99)?.destination).toBe(canary);
    expect(routeRequest(service, request({ 'user-agent': 'xFirefox' }), 0.99)?.destination).toBe(stable);
    expect(routeRequest(service, request(), 0.99)?.destination).toBe(stable);
  });

  it('mirrors the mirrorPercentage share of matching requests to the canary, serving them by the weights', () => {
    const service = vs([mirrorRoute(25), primary]);
    const get = { method: 'GET', path: '/api/x', headers: {} };
    const routed = draws.map((draw) => routeRequest(service, get, 0.5, draw));
    expect(routed.every((one) => one?.route === 'mirror' && one.destination === stable)).toBe(true);
    expect(routed.filter((one) => one?.mirror === canary)).toHaveLength(25);
  });

  it('mirrors every matching request without mirrorPercentage, none at 0, and only requests that match (method, uri)', () => {
    const all = vs([mirrorRoute(), primary]);
    expect(
      draws.every((draw) => routeRequest(all, { method: 'GET', path: '/api', headers: {} }, 0, draw)?.mirror),
    ).toBe(true);
    const none = vs([mirrorRoute(0), primary]);
    expect(
      draws.some((draw) => routeRequest(none, { method: 'GET', path: '/api', headers: {} }, 0, draw)?.mirror),
    ).toBe(false);
    expect(routeRequest(all, { method: 'POST', path: '/api', headers: {} }, 0, 0)).toEqual({
      route: 'primary',
      destination: stable,
    });
    expect(routeRequest(all, { path: '/color', headers: {} }, 0, 0)?.mirror).toBeUndefined();
  });
});

describe('the serving image answers as the demo images do', () => {
  it('recognises bad-* demo images only by their tag', () => {
    expect(isBadImage('argoproj/rollouts-demo:bad-red')).toBe(true);
    expect(isBadImage('argoproj/rollouts-demo:red')).toBe(false);
    expect(isBadImage('registry:5000/bad-images/app:blue')).toBe(false);
  });

  it('fails the configured share of a bad image’s requests, slower; a good image always succeeds', () => {
    const draws = Array.from({ length: 100 }, (_, i) => i / 100);
    const bad = draws.map((draw) => answer('argoproj/rollouts-demo:bad-red', true, [draw, draw], 0.5));
    expect(bad.filter((one) => one.code === 500)).toHaveLength(50);
    expect(Math.min(...bad.map((one) => one.durationMs))).toBeGreaterThanOrEqual(300);
    const good = draws.map((draw) => answer('argoproj/rollouts-demo:red', true, [draw, draw], 0.5));
    expect(good.every((one) => one.code === 200 && one.durationMs <= 50)).toBe(true);
  });

  it('answers 503 when no pod is ready', () => {
    expect(answer('argoproj/rollouts-demo:red', false, [0.9, 0.9], 0.5)).toEqual({
      code: 503,
      durationMs: 0,
    });
  });
});
