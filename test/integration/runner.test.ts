/** The runner's guarantees on real parts: abort and retry, drift correction, concurrent runners, invalid references. */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { CONTENT_TYPES } from '../../lib/adapters/kube/http.js';
import { EventBridgePublisher } from '../../lib/adapters/aws/events.js';
import { runPass } from '../../lib/app/runner/pass.js';
import { keyOf, type RolloutStore } from '../../lib/adapters/dynamodb/repository.js';
import { admin, applyDemo, createNamespace, waitForAvailable } from './sandbox.js';
import {
  createStore,
  demoRolloutIn,
  deployment,
  everyRoute,
  passUntil,
  phase,
  routeWeights,
  pausedAt,
  registerAndSetImage,
  runnerDeps,
  YELLOW,
} from './runner-harness.js';

const RED = 'argoproj/rollouts-demo:red';
let store: RolloutStore;

async function freshDemo(prefix: string) {
  const namespace = await createNamespace(prefix);
  await applyDemo(namespace);
  await waitForAvailable(namespace, 'rollouts-demo-stable', 1);
  return namespace;
}

beforeAll(async () => {
  store = await createStore();
});

describe('abort and retry', () => {
  it('sends all traffic to stable in one pass, scales the canary down after the delay, and retry restarts', async () => {
    const namespace = await freshDemo('abort');
    const rollout = demoRolloutIn(namespace);
    const key = keyOf(rollout);
    const deps = runnerDeps(store);
    await registerAndSetImage(store, rollout);
    await passUntil(deps, rollout, pausedAt(5), 'pause at 5');
    await store.enqueueCommand(key, { kind: 'promote' }, 'test', Date.now());
    await passUntil(deps, rollout, (s) => s.status.weight === 50, '50/50');

    await store.enqueueCommand(key, { kind: 'abort' }, 'test', Date.now());
    await runPass(deps, { only: [key] });
    const aborted = await store.get(key);
    expect(aborted?.status).toMatchObject({
      phase: 'Degraded',
      weight: 0,
      message: 'Rollout aborted update to revision 2',
    });
    expect(await routeWeights(rollout)).toEqual(everyRoute(100, 0));
    expect((await deployment(namespace, 'rollouts-demo-canary')).replicas).toBe(1);

    await passUntil(
      deps,
      rollout,
      (s) => s.status.canaryScaledDown === true,
      'canary scaled down after abortScaleDownDelaySeconds',
    );
    expect((await deployment(namespace, 'rollouts-demo-canary')).replicas).toBe(0);
    expect((await deployment(namespace, 'rollouts-demo-stable')).image).toBe('argoproj/rollouts-demo:blue');

    await store.enqueueCommand(key, { kind: 'retry' }, 'test', Date.now());
    const retried = await passUntil(deps, rollout, pausedAt(5), 'retry back at step 1');
    expect(retried.status).toMatchObject({ revision: 2, stepIndex: 1, canaryImage: YELLOW });
    expect(await routeWeights(rollout)).toEqual(everyRoute(95, 5));
  });
});

describe('drift', () => {
  it('puts a weight edited by hand back on the next pass', async () => {
    const namespace = await freshDemo('drift');
    const rollout = demoRolloutIn(namespace);
    const key = keyOf(rollout);
    const deps = runnerDeps(store);
    await registerAndSetImage(store, rollout);
    await passUntil(deps, rollout, pausedAt(5), 'pause at 5');

    const edited = await admin().send(
      'PATCH',
      `/apis/networking.istio.io/v1beta1/namespaces/${namespace}/virtualservices/rollouts-demo-vsvc2`,
      [
        { op: 'replace', path: '/spec/tcp/0/route/0/weight', value: 40 },
        { op: 'replace', path: '/spec/tcp/0/route/1/weight', value: 60 },
      ],
      CONTENT_TYPES.jsonPatch,
    );
    expect(edited.status).toBe(200);
    expect((await routeWeights(rollout))['rollouts-demo-vsvc2']?.[2]).toEqual(['tcp', 40, 60]);

    await runPass(deps, { only: [key] });
    expect(await routeWeights(rollout)).toEqual(everyRoute(95, 5));
  });
});

describe('two runners on the same due Rollout', () => {
  it('make every step happen once and lose no write', async () => {
    const namespace = await freshDemo('race');
    const rollout = demoRolloutIn(namespace);
    const key = keyOf(rollout);
    const a = runnerDeps(store, 'runner-a');
    const b = runnerDeps(store, 'runner-b');
    await registerAndSetImage(store, rollout);
    const both = async () => Promise.all([runPass(a, { only: [key] }), runPass(b, { only: [key] })]);
    for (let i = 0; i < 40 && (await store.get(key))?.status.phase !== 'Paused'; i++) {
      await both();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await store.enqueueCommand(key, { kind: 'promote' }, 'test', Date.now());
    for (let i = 0; i < 100 && (await store.get(key))?.status.phase !== 'Healthy'; i++) {
      await both();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const final = await store.get(key);
    expect(final?.status).toMatchObject({ phase: 'Healthy', stableImage: YELLOW });
    expect(await routeWeights(rollout)).toEqual(everyRoute(100, 0));

    const transitions = (await store.history(key))
      .filter((entry) => entry.kind === 'transition')
      .map((entry) => entry.message);
    expect(new Set(transitions).size).toBe(transitions.length);
    expect(transitions.filter((t) => t.startsWith('Rollout Completed'))).toHaveLength(1);
    // Steps 1, 3 and 4 complete on their own; the pause {} at step 2 ends by the promote.
    expect(transitions.filter((t) => t.startsWith('Rollout Step Completed'))).toHaveLength(3);
    expect(transitions.filter((t) => t.startsWith('Rollout Promoted'))).toHaveLength(1);
    const published = [...a.events.events, ...b.events.events].map((e) => e.event.type);
    expect(published.filter((t) => t === 'Rollout Started')).toHaveLength(1);
    expect(published.filter((t) => t === 'Rollout Promoted')).toHaveLength(1);
  });
});

describe('invalid references', () => {
  it('go InvalidSpec with the planner message and write nothing to the cluster', async () => {
    const namespace = await freshDemo('invalid');
    const rollout = demoRolloutIn(
      namespace,
      (doc) => (doc.spec.strategy.canary.trafficRouting.istio.virtualServices[0].routes = ['http-missing']),
    );
    const deps = runnerDeps(store);
    const vsBefore = await admin().send<any>(
      'GET',
      `/apis/networking.istio.io/v1beta1/namespaces/${namespace}/virtualservices/rollouts-demo-vsvc1`,
    );
    await registerAndSetImage(store, rollout);
    const invalid = await passUntil(deps, rollout, phase('InvalidSpec'), 'InvalidSpec');
    expect(invalid.status.message).toBe(
      `Rollout ${namespace}/rollouts-demo: VirtualService ${namespace}/rollouts-demo-vsvc1: HTTP Route 'http-missing' is not found in the defined Virtual Service. Found HTTP routes: 'http-primary'.`,
    );
    expect(invalid.dueAt).toBeUndefined();
    const vsAfter = await admin().send<any>(
      'GET',
      `/apis/networking.istio.io/v1beta1/namespaces/${namespace}/virtualservices/rollouts-demo-vsvc1`,
    );
    expect(vsAfter.body.metadata.resourceVersion).toBe(vsBefore.body.metadata.resourceVersion);
    expect(await deployment(namespace, 'rollouts-demo-canary')).toMatchObject({
      image: 'argoproj/rollouts-demo:blue',
      replicas: 0,
    });

    const fixed = demoRolloutIn(namespace);
    await store.apply(fixed, Date.now());
    const resumed = await passUntil(deps, fixed, pausedAt(5), 'resumed after the fix');
    expect(resumed.status.canaryImage).toBe(YELLOW);
  });
});

describe('lifecycle events', () => {
  it('go to EventBridge as exactly these PutEvents entries', async () => {
    const namespace = await freshDemo('events');
    const rollout = demoRolloutIn(namespace, (doc) => (doc.spec.strategy.canary.steps = [{ setWeight: 20 }]));
    const key = keyOf(rollout);
    const eventBridge = mockClient(EventBridgeClient);
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
    const deps = runnerDeps(store, 'runner-events', {
      events: new EventBridgePublisher(new EventBridgeClient({ region: 'us-east-1' }), 'rollouts-bus'),
    });
    await store.apply(rollout, Date.now());
    await store.enqueueCommand(key, { kind: 'setImage', image: RED }, 'test', Date.now());
    await passUntil(deps, rollout, phase('Healthy'), 'Healthy on red');
    const entries = eventBridge
      .commandCalls(PutEventsCommand)
      .flatMap((call) => call.args[0].input.Entries ?? []);
    expect(
      entries.map(({ Time: _time, ...entry }) => ({ ...entry, Detail: JSON.parse(entry.Detail as string) })),
    ).toEqual([
      {
        EventBusName: 'rollouts-bus',
        Source: 'serverless-rollouts',
        DetailType: 'Rollout Started',
        Resources: [],
        Detail: {
          cluster: 'default',
          namespace,
          rollout: 'rollouts-demo',
          phase: 'Progressing',
          type: 'Rollout Started',
          revision: 2,
          image: RED,
        },
      },
      {
        EventBusName: 'rollouts-bus',
        Source: 'serverless-rollouts',
        DetailType: 'Rollout Step Completed',
        Resources: [],
        Detail: expect.objectContaining({
          type: 'Rollout Step Completed',
          revision: 2,
          stepIndex: 0,
          weight: 20,
          image: RED,
        }),
      },
      {
        EventBusName: 'rollouts-bus',
        Source: 'serverless-rollouts',
        DetailType: 'Rollout Completed',
        Resources: [],
        Detail: {
          cluster: 'default',
          namespace,
          rollout: 'rollouts-demo',
          phase: 'Healthy',
          type: 'Rollout Completed',
          revision: 2,
          image: RED,
          weight: 0,
        },
      },
    ]);
    eventBridge.restore();
  });
});
