/**
 * The registry webhook's Lambda handler, built from its dependencies (Lambda, local mode and the
 * benchmark each inject theirs). Bad input is answered 4xx by the pure decision; a store or
 * Secrets Manager outage is answered 503 with Retry-After, so the registry delivers again. The
 * request path is never logged nor measured: under /dockerhub/ it is the token.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { z } from 'zod';
import type { Bindings } from '../../core/triggers/bindings.js';
import { decideWebhook, endpointOf, type WebhookSecrets } from '../../core/triggers/webhook.js';
import { acceptPushes, type Nudge, type PushStore } from './pushes.js';
import { once } from './once.js';

export interface WebhookDeps {
  store: PushStore;
  secrets: () => Promise<WebhookSecrets>;
  bindings: Bindings;
  nudge?: Nudge;
  /** Milliseconds since the epoch. */
  clock: () => number;
}

/** Where the handler writes; tests and local mode may give their own. */
export interface WebhookTelemetry {
  logger?: Logger;
  metrics?: Metrics;
}

export interface FunctionUrlResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * What the handler reads of a Function URL request (payload format 2.0), and nothing more: a push
 * must not be refused for a field it does not need (a test invoke's source IP, a missing user agent).
 */
const functionUrlRequest = z.object({
  rawPath: z.string(),
  headers: z.record(z.string(), z.string()).optional(),
  body: z.string().optional(),
  isBase64Encoded: z.boolean().optional(),
  requestContext: z.object({ http: z.object({ method: z.string() }) }),
});

/** Seconds a registry should wait before delivering again after a 503. */
export const RETRY_AFTER_SECONDS = 30;

const respond = (statusCode: number, body: Record<string, unknown>): FunctionUrlResponse => ({
  statusCode,
  headers: {
    'content-type': 'application/json',
    ...(statusCode === 405 ? { allow: 'POST' } : {}),
    ...(statusCode === 503 ? { 'retry-after': String(RETRY_AFTER_SECONDS) } : {}),
  },
  body: JSON.stringify(body),
});

/**
 * `deps` may be a function: Lambda builds them on the first request, so importing the module (the
 * cold start's first part) reads no environment.
 */
export function createWebhookHandler(
  deps: WebhookDeps | (() => WebhookDeps),
  telemetry: WebhookTelemetry = {},
) {
  const logger = telemetry.logger ?? new Logger({ serviceName: 'registry-webhook' });
  const metrics =
    telemetry.metrics ?? new Metrics({ namespace: 'ServerlessRollouts', serviceName: 'registry-webhook' });
  const resolve = once(deps);

  const unavailable = (what: string, error: unknown) => {
    metrics.addMetric('Unavailable503', MetricUnit.Count, 1);
    logger.error(`${what} unavailable: answered 503`, {
      error: { name: (error as Error)?.name, message: (error as Error)?.message },
    });
    return respond(503, { message: `${what} is unavailable; deliver again later` });
  };

  return middy(async (event: unknown): Promise<FunctionUrlResponse> => {
    const parsed = functionUrlRequest.safeParse(event);
    if (!parsed.success) {
      metrics.addMetric('Rejected400', MetricUnit.Count, 1);
      return respond(400, { message: 'not a Lambda Function URL request' });
    }
    const request = parsed.data;
    const deps = resolve();
    const endpoint = endpointOf(request.rawPath) ?? 'unknown';
    let secrets: WebhookSecrets;
    try {
      secrets = await deps.secrets();
    } catch (error) {
      return unavailable('the webhook secret', error);
    }
    const now = deps.clock();
    const decision = decideWebhook(
      {
        method: request.requestContext.http.method,
        path: request.rawPath,
        headers: Object.fromEntries(
          Object.entries(request.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]),
        ),
        body: Buffer.from(request.body ?? '', request.isBase64Encoded ? 'base64' : 'utf8'),
      },
      { secrets, bindings: deps.bindings, nowSeconds: Math.floor(now / 1000) },
    );
    if (decision.kind === 'reject') {
      metrics.addMetric(`Rejected${decision.status}`, MetricUnit.Count, 1);
      logger.warn('webhook rejected', { endpoint, status: decision.status, reason: decision.message });
      return respond(decision.status, { message: decision.message });
    }
    if (decision.kind === 'ignore') {
      metrics.addMetric('Ignored', MetricUnit.Count, 1);
      logger.info('webhook ignored', { endpoint, reason: decision.message });
      return respond(202, { message: decision.message });
    }
    try {
      const accepted = await acceptPushes(deps.store, decision.pushes, {
        deliveryKeys: decision.deliveryKeys,
        source: `webhook:${decision.provider}`,
        now,
        ...(deps.nudge ? { nudge: deps.nudge } : {}),
      });
      metrics.addMetric(
        'CanariesQueued',
        MetricUnit.Count,
        accepted.results.filter((r) => r.result === 'queued').length,
      );
      logger.info('push accepted', { endpoint, refused: decision.refused, ...accepted });
      return respond(202, { ...accepted, ...(decision.refused.length ? { refused: decision.refused } : {}) });
    } catch (error) {
      return unavailable('the rollout store', error);
    }
  })
    .use(injectLambdaContext(logger, { logEvent: false }))
    .use(logMetrics(metrics));
}
