/**
 * A long wait on the AWS wake-up path, on a simulated clock: the step runner on the in-memory store
 * and cluster, the one-minute EventBridge schedule, and SQS wake-ups (SqsWakeups on an SQS client
 * stubbed with aws-sdk-client-mock) delivered when their DelaySeconds run out. Events run in time
 * order and a pass takes no simulated time, so the lateness measured is the wake-up design's alone.
 * The unit test (test/unit/wake-schedule.test.ts) and `npm run bench` both run it.
 */
import { SendMessageCommand, SQSClient, type SendMessageCommandInput } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { join } from 'node:path';
import { MemorySecrets, ScriptedProvider } from '../adapters/memory/analysis.js';
import { MemoryCluster, MemoryClusters } from '../adapters/memory/cluster.js';
import { MemoryPublisher } from '../adapters/memory/events.js';
import { MemoryStore } from '../adapters/memory/store.js';
import { SqsWakeups } from '../adapters/aws/wakeups.js';
import { handleRunnerInput } from '../app/runner/handle.js';
import type { RunnerInput } from '../app/runner/inputs.js';
import type { RunnerDeps } from '../app/runner/ports.js';
import { DEFAULT_ENGINE_OPTIONS } from '../core/engine/decide.js';
import { parseRollout } from '../core/model/rollout.js';
import { isVirtualService } from '../core/model/virtualservice.js';
import { readManifests, REPO_ROOT } from './testcluster.js';

export const SIMULATED_QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/rollouts-wakeups';
const SCHEDULE_MS = 60_000;
const STABLE_IMAGE = 'argoproj/rollouts-demo:blue';
const CANARY_IMAGE = 'argoproj/rollouts-demo:yellow';

export interface WakeSimulationOptions {
  pauseSeconds: number;
  /** The engine's resync (default: the engine's own); a pause wakes at least this often. */
  resyncSeconds?: number;
  /** Where the pass that starts the rollout falls between two schedule ticks (ms after a tick). */
  startAfterTickMs?: number;
  /**
   * false: the runner is not told SQS's reach, so a wait beyond it is stored due at its instant and
   * only the one-minute schedule ends it (the design before; for comparison). Default true.
   */
  armBeyondReach?: boolean;
}

export interface WakeSimulation {
  /** When the pause was due to end, and when the pass that ended it ran. */
  pauseUntil: number;
  endedAt: number;
  latenessMs: number;
  /** Every SendMessage the runner sent, with the simulated instant it was sent. */
  messages: { sentAt: number; input: SendMessageCommandInput }[];
  /** Passes that ran (schedule ticks with something due, and wake-ups). */
  passes: number;
}

const arrival = (message: WakeSimulation['messages'][number]) =>
  message.sentAt + (message.input.DelaySeconds ?? 0) * 1000;

/** The demo Rollout with steps setWeight 5, pause `pauseSeconds`, setWeight 50, its image pushed at the start. */
export async function simulatePause(options: WakeSimulationOptions): Promise<WakeSimulation> {
  const document = structuredClone(readManifests(join(REPO_ROOT, 'examples/istio-demo'), 'rollout.yaml')[0]);
  const canary = (document as { spec: { strategy: { canary: { steps: unknown[] } } } }).spec.strategy.canary;
  canary.steps = [{ setWeight: 5 }, { pause: { duration: `${options.pauseSeconds}s` } }, { setWeight: 50 }];
  const parsed = parseRollout(document);
  if (!parsed.ok) throw new Error(`simulated rollout: ${parsed.error.join('; ')}`);

  const tick0 = Date.parse('2026-01-01T00:00:00Z');
  let now = tick0 + (options.startAfterTickMs ?? 20_000);
  const store = new MemoryStore();
  const key = store.register(parsed.value, now);
  const cluster = new MemoryCluster(
    {
      'default/rollouts-demo-stable': { container: 'rollouts-demo', image: STABLE_IMAGE, replicas: 1 },
      'default/rollouts-demo-canary': { container: 'rollouts-demo', image: STABLE_IMAGE, replicas: 0 },
    },
    readManifests(join(REPO_ROOT, 'examples/istio-demo'), 'virtualservices.yaml').filter(isVirtualService),
  );
  const client = new SQSClient({ region: 'eu-west-1' });
  const sqs = mockClient(client);
  const messages: WakeSimulation['messages'] = [];
  sqs.on(SendMessageCommand).callsFake((input: SendMessageCommandInput) => {
    messages.push({ sentAt: now, input });
    return { MessageId: `m${messages.length}` };
  });
  const sqsWakeups = new SqsWakeups(client, SIMULATED_QUEUE_URL);
  const deps: RunnerDeps = {
    store,
    clusters: new MemoryClusters({ default: cluster }),
    events: new MemoryPublisher(),
    wakeups:
      options.armBeyondReach === false
        ? { schedule: (key, at, from) => sqsWakeups.schedule(key, at, from) }
        : sqsWakeups,
    metrics: new ScriptedProvider(),
    secrets: new MemorySecrets(),
    owner: 'simulated-lambda',
    clock: () => now,
    engine: {
      ...DEFAULT_ENGINE_OPTIONS,
      ...(options.resyncSeconds ? { resyncSeconds: options.resyncSeconds } : {}),
    },
  };

  const pauseIndex = 1;
  let pauseUntil: number | undefined;
  let passes = 0;
  const run = async (input: RunnerInput) => {
    const result = await handleRunnerInput(deps, input);
    passes += result.report?.due ?? 0;
    const status = store.get(key)?.status;
    if (status?.pauseUntil) pauseUntil = Date.parse(status.pauseUntil);
    return status !== undefined && status.stepIndex > pauseIndex;
  };
  try {
    await store.enqueueCommand(key, { kind: 'setImage', image: CANARY_IMAGE }, 'simulation', now);
    await run({ kind: 'command', key, source: 'simulation' });
    const delivered = new Set<number>();
    let nextTick = tick0 + SCHEDULE_MS;
    const horizon = now + (options.pauseSeconds + 600) * 1000;
    while (now < horizon) {
      // The next event: the earliest SQS message not yet delivered, or else the schedule's tick.
      let next = -1;
      messages.forEach((message, index) => {
        if (delivered.has(index)) return;
        if (next < 0 || arrival(message) < arrival(messages[next] as (typeof messages)[number])) next = index;
      });
      const message = messages[next];
      let input: RunnerInput;
      if (message && arrival(message) <= nextTick) {
        now = arrival(message);
        delivered.add(next);
        input = { kind: 'wakeups', keys: [{ key, messageId: `m${next + 1}` }], malformed: [] };
      } else {
        now = nextTick;
        nextTick += SCHEDULE_MS;
        input = { kind: 'schedule' };
      }
      if (await run(input)) {
        if (pauseUntil === undefined) throw new Error('the pause ended before it started');
        return { pauseUntil, endedAt: now, latenessMs: now - pauseUntil, messages, passes };
      }
    }
    throw new Error(`the ${options.pauseSeconds}s pause did not end within 10 minutes of its instant`);
  } finally {
    sqs.restore();
  }
}
