/** Commands as they arrive from the CLI, the command bus or a webhook: validated before anything is queued. */
import { z } from 'zod';
import type { Command } from '../engine/types.js';
import { parseImageReference } from './images.js';

export const commandSchema: z.ZodType<Command> = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('setImage'),
    image: z
      .string()
      .trim()
      .min(1)
      .max(1024)
      .regex(/^[^\s]+$/, 'must not contain spaces')
      // A reference no registry could serve would be written to the Deployment and never pulled.
      .superRefine((image, ctx) => {
        const reference = parseImageReference(image);
        if (!reference.ok) ctx.addIssue({ code: 'custom', message: reference.error });
      }),
  }),
  z.object({ kind: z.literal('promote') }),
  z.object({ kind: z.literal('promoteFull') }),
  z.object({ kind: z.literal('abort') }),
  z.object({ kind: z.literal('retry') }),
]);

/** A key part, bounded like the Kubernetes name it stands for, so no key can outgrow DynamoDB's. */
export const keyPart = z.string().min(1).max(253);

export const rolloutKeySchema = z.object({
  cluster: keyPart.default('default'),
  namespace: keyPart.default('default'),
  name: keyPart,
});
