/** The step runner's entry logic, shared by the Lambda handler and local mode. */
import { checkCommandSource, type Rejection, type RunnerInput } from './inputs.js';
import { runPass, type PassReport } from './pass.js';
import { formatKey, type RunnerDeps } from './ports.js';

export interface RunnerResult {
  report?: PassReport;
  /** SQS partial batch response: messages to deliver again. */
  batchItemFailures?: { itemIdentifier: string }[];
  /** What was refused: the caller logs and counts each. */
  rejections: Rejection[];
  message?: string;
}

export async function handleRunnerInput(
  deps: RunnerDeps,
  input: RunnerInput,
  options: { commandSources?: readonly string[] } = {},
): Promise<RunnerResult> {
  const allowed = checkCommandSource(input, options.commandSources);
  if (!allowed.ok) return { rejections: [allowed.error] };
  switch (input.kind) {
    case 'schedule': {
      const report = await runPass(deps);
      return { report, rejections: unknownRollouts(report) };
    }
    case 'wakeups': {
      const report = await runPass(deps, { only: input.keys.map((entry) => entry.key) });
      const malformed: Rejection[] = input.malformed.length
        ? [
            {
              reason: 'malformed-wakeup',
              message: `${input.malformed.length} SQS message(s) are not a wake-up ({"wake": {cluster, namespace, name}}); dropped`,
              detail: { messageIds: input.malformed },
            },
          ]
        : [];
      // A wake-up for a Rollout another runner holds is not lost: the holder saves its next due time.
      return { report, batchItemFailures: [], rejections: [...malformed, ...unknownRollouts(report)] };
    }
    case 'command': {
      if (input.command) {
        const queued = await deps.store.enqueueCommand(input.key, input.command, input.source, deps.clock());
        if (!queued.ok) return { rejections: [unknownRollout(formatKey(input.key), input.source)] };
      }
      const report = await runPass(deps, { only: [input.key] });
      return {
        report,
        rejections: unknownRollouts(report, input.source),
        message: `processed ${formatKey(input.key)}`,
      };
    }
  }
}

function unknownRollouts(report: PassReport, source?: string): Rejection[] {
  return report.outcomes
    .filter((outcome) => outcome.result === 'not-found')
    .map((outcome) => unknownRollout(formatKey(outcome.key), source));
}

function unknownRollout(rollout: string, source: string | undefined): Rejection {
  return {
    reason: 'unknown-rollout',
    message: `no Rollout ${rollout} is registered (rollouts apply registers it)`,
    detail: { rollout, ...(source ? { source } : {}) },
  };
}
