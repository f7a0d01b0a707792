/** What wakes the step runner: the schedule, SQS wake-ups, and commands on the event bus. */
import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import { SqsSchema } from '@aws-lambda-powertools/parser/schemas/sqs';
import { z } from 'zod';
import type { Command } from '../../core/engine/types.js';
import { commandSchema, rolloutKeySchema } from '../../core/model/command.js';
import type { RolloutKey } from '../../adapters/dynamodb/types.js';

export const COMMAND_DETAIL_TYPE = 'Rollout Command';

export type RunnerInput =
  | { kind: 'schedule' }
  | { kind: 'wakeups'; keys: { key: RolloutKey; messageId: string }[]; malformed: string[] }
  | { kind: 'command'; key: RolloutKey; command?: Command; source: string };

const wakeupBody = z.object({ wake: rolloutKeySchema, at: z.number().optional() });
const commandDetail = z.object({
  cluster: z.string().min(1).default('default'),
  namespace: z.string().min(1).default('default'),
  rollout: z.string().min(1),
  /** Absent when the command was queued in the table already and this is only the nudge. */
  command: commandSchema.optional(),
});

export type ParsedInput = { ok: true; input: RunnerInput } | { ok: false; reason: string };

export function parseRunnerInput(event: unknown): ParsedInput {
  const sqs = SqsSchema.safeParse(event);
  if (sqs.success) {
    const keys: { key: RolloutKey; messageId: string }[] = [];
    const malformed: string[] = [];
    for (const record of sqs.data.Records) {
      const body = wakeupBody.safeParse(safeJson(record.body));
      if (body.success) keys.push({ key: body.data.wake, messageId: record.messageId });
      else malformed.push(record.messageId);
    }
    return { ok: true, input: { kind: 'wakeups', keys, malformed } };
  }
  const bridge = EventBridgeSchema.safeParse(event);
  if (!bridge.success) return { ok: false, reason: 'neither an EventBridge event nor an SQS batch' };
  if (bridge.data['detail-type'] === 'Scheduled Event') return { ok: true, input: { kind: 'schedule' } };
  if (bridge.data['detail-type'] === COMMAND_DETAIL_TYPE) {
    const detail = commandDetail.safeParse(bridge.data.detail);
    if (!detail.success)
      return {
        ok: false,
        reason: `bad ${COMMAND_DETAIL_TYPE} detail: ${detail.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      };
    const { cluster, namespace, rollout, command } = detail.data;
    return {
      ok: true,
      input: {
        kind: 'command',
        key: { cluster, namespace, name: rollout },
        ...(command ? { command } : {}),
        source: bridge.data.source,
      },
    };
  }
  return { ok: false, reason: `unexpected detail-type '${bridge.data['detail-type']}'` };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
