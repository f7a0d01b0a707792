/** The step runner's entry logic, shared by the Lambda handler and local mode. */
import type { RunnerInput } from './inputs.js';
import { runPass, type PassReport } from './pass.js';
import { formatKey, type RunnerDeps } from './ports.js';

export interface RunnerResult {
  report?: PassReport;
  /** SQS partial batch response: messages to deliver again. */
  batchItemFailures?: { itemIdentifier: string }[];
  message?: string;
}

export async function handleRunnerInput(deps: RunnerDeps, input: RunnerInput): Promise<RunnerResult> {
  switch (input.kind) {
    case 'schedule':
      return { report: await runPass(deps) };
    case 'wakeups': {
      const report = await runPass(deps, { only: input.keys.map((entry) => entry.key) });
      // A wake-up for a Rollout another runner holds is not lost: the holder saves its next due time.
      return { report, batchItemFailures: [] };
    }
    case 'command': {
      if (input.command) {
        const queued = await deps.store.enqueueCommand(input.key, input.command, input.source, deps.clock());
        if (!queued.ok) return { message: queued.reason };
      }
      const report = await runPass(deps, { only: [input.key] });
      return { report, message: `processed ${formatKey(input.key)}` };
    }
  }
}
