/** What wakes the step runner: the schedule, SQS wake-ups, and commands on the event bus. */
import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import { SqsSchema } from '@aws-lambda-powertools/parser/schemas/sqs';
import { z } from 'zod';
import type { Command } from '../../core/engine/types.js';
import { commandSchema, keyPart, rolloutKeySchema } from '../../core/model/command.js';
import { formatIssues } from '../../core/model/issues.js';
import { err, ok, type Result } from '../../core/result.js';
import { formatKey, type RolloutKey } from './ports.js';

export const COMMAND_DETAIL_TYPE = 'Rollout Command';
/** The CLI's event source: the only one whose events may carry a command (others may only nudge). */
export const CLI_COMMAND_SOURCE = 'serverless-rollouts.cli';

export type RunnerInput =
  | { kind: 'schedule' }
  | { kind: 'wakeups'; keys: { key: RolloutKey; messageId: string }[]; malformed: string[] }
  | { kind: 'command'; key: RolloutKey; command?: Command; source: string };

/**
 * Why the runner refused an input. Each is logged and counted (metric `RunnerInputRejected`,
 * dimension `reason`): an operator sees what was refused, nothing is dropped silently.
 */
export type RejectionReason =
  | 'unrecognised-event'
  | 'unexpected-detail-type'
  | 'malformed-command'
  | 'malformed-wakeup'
  | 'command-source-refused'
  | 'unknown-rollout';

export interface Rejection {
  reason: RejectionReason;
  message: string;
  /** Which messages or Rollout, where there is one. */
  detail?: Record<string, unknown>;
}

const wakeupBody = z.object({ wake: rolloutKeySchema, at: z.number().optional() });
const commandDetail = z.object({
  cluster: keyPart.default('default'),
  namespace: keyPart.default('default'),
  rollout: keyPart,
  /** Absent when the command was queued in the table already and this is only the nudge. */
  command: commandSchema.optional(),
});

export function parseRunnerInput(event: unknown): Result<RunnerInput, Rejection> {
  const sqs = SqsSchema.safeParse(event);
  if (sqs.success) {
    const keys: { key: RolloutKey; messageId: string }[] = [];
    const malformed: string[] = [];
    for (const record of sqs.data.Records) {
      const body = wakeupBody.safeParse(safeJson(record.body));
      if (body.success) keys.push({ key: body.data.wake, messageId: record.messageId });
      else malformed.push(record.messageId);
    }
    return ok({ kind: 'wakeups', keys, malformed });
  }
  const bridge = EventBridgeSchema.safeParse(event);
  if (!bridge.success)
    return err({ reason: 'unrecognised-event', message: 'neither an EventBridge event nor an SQS batch' });
  const { source, id } = bridge.data;
  const detailType = bridge.data['detail-type'];
  if (detailType === 'Scheduled Event') return ok({ kind: 'schedule' });
  if (detailType !== COMMAND_DETAIL_TYPE)
    return err({
      reason: 'unexpected-detail-type',
      message: `unexpected detail-type '${detailType}'`,
      detail: { source, id },
    });
  const detail = commandDetail.safeParse(bridge.data.detail);
  if (!detail.success)
    return err({
      reason: 'malformed-command',
      message: `bad ${COMMAND_DETAIL_TYPE} detail: ${formatIssues(detail.error)}`,
      detail: { source, id },
    });
  const { cluster, namespace, rollout, command } = detail.data;
  return ok({
    kind: 'command',
    key: { cluster, namespace, name: rollout },
    ...(command ? { command } : {}),
    source,
  });
}

/** Only the CLI sends commands; a trigger (or anyone else) may only nudge the runner. */
export function checkCommandSource(
  input: RunnerInput,
  commandSources: readonly string[] = [CLI_COMMAND_SOURCE],
): Result<RunnerInput, Rejection> {
  if (input.kind !== 'command' || !input.command || commandSources.includes(input.source)) return ok(input);
  return err({
    reason: 'command-source-refused',
    message: `a ${input.command.kind} command from '${input.source}' was refused: commands are taken only from ${commandSources.join(', ')}; other sources may only nudge`,
    detail: { source: input.source, rollout: formatKey(input.key) },
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
