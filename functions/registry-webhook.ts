/** Lambda Function URL: Docker Hub, GHCR, Harbor and generic push webhooks start canaries. */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { LambdaFunctionUrlSchema } from '@aws-lambda-powertools/parser/schemas/lambda';
import middy from '@middy/core';
import { acceptPushes } from '../lib/app/runner/pushes.js';
import { triggerDepsFromEnvironment, type TriggerDeps } from '../lib/adapters/aws/trigger-deps.js';
import { decideWebhook } from '../lib/core/triggers/webhook.js';

const logger = new Logger({ serviceName: 'registry-webhook' });
const metrics = new Metrics({ namespace: 'ServerlessRollouts', serviceName: 'registry-webhook' });
let deps: TriggerDeps | undefined;

const respond = (statusCode: number, body: Record<string, unknown>) => ({
  statusCode,
  headers: { 'content-type': 'application/json', ...(statusCode === 405 ? { allow: 'POST' } : {}) },
  body: JSON.stringify(body),
});

export const handler = middy(async (event: unknown) => {
  const parsed = LambdaFunctionUrlSchema.safeParse(event);
  if (!parsed.success) return respond(400, { message: 'not a Lambda Function URL request' });
  const request = parsed.data;
  const decision = decideWebhook(
    {
      method: request.requestContext.http.method,
      path: request.rawPath,
      headers: Object.fromEntries(
        Object.entries(request.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]),
      ),
      body: Buffer.from(request.body ?? '', request.isBase64Encoded ? 'base64' : 'utf8'),
    },
    await (deps ??= triggerDepsFromEnvironment(process.env)).secrets(),
  );
  if (decision.kind === 'reject') {
    metrics.addMetric(`Rejected${decision.status}`, MetricUnit.Count, 1);
    logger.warn('webhook rejected', {
      status: decision.status,
      reason: decision.message,
      path: request.rawPath,
    });
    return respond(decision.status, { message: decision.message });
  }
  if (decision.kind === 'ignore') return respond(202, { message: decision.message });
  const accepted = await acceptPushes(deps.store, decision.pushes, {
    ...(decision.deliveryId ? { deliveryId: decision.deliveryId } : {}),
    source: `webhook:${decision.provider}`,
    now: Date.now(),
    ...(deps.nudge ? { nudge: deps.nudge } : {}),
  });
  metrics.addMetric(
    'CanariesQueued',
    MetricUnit.Count,
    accepted.results.filter((r) => r.result === 'queued').length,
  );
  logger.info('push accepted', { provider: decision.provider, ...accepted });
  return respond(202, { ...accepted });
})
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
