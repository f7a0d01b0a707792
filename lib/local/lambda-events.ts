/** The event shapes AWS delivers to the functions: EventBridge scheduled and bus events, SQS batches, Function URL requests. */

export const scheduledEvent = {
  version: '0',
  id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: '2026-11-25T16:53:06Z',
  region: 'us-east-1',
  resources: ['arn:aws:events:us-east-1:123456789012:rule/rollouts-step-runner-schedule'],
  detail: {},
};

/** A command (or nudge) on the rollouts bus, as `rollouts promote`, a deployer or a trigger (its `source`) puts it. */
export function commandEvent(detail: unknown, source = 'serverless-rollouts.cli') {
  return {
    ...scheduledEvent,
    id: 'c0mmand',
    'detail-type': 'Rollout Command',
    source,
    resources: [],
    detail,
  };
}

/** An SQS batch from the wake-up queue, one record per body. */
export function sqsEvent(...bodies: string[]) {
  return {
    Records: bodies.map((body, i) => ({
      messageId: `059f36b4-87a3-44ab-83d2-66197583${String(i).padStart(4, '0')}`,
      receiptHandle: 'AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...',
      body,
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: '1545082649183',
        SenderId: 'AIDAIENQZJOLO23YVJ4VO',
        ApproximateFirstReceiveTimestamp: '1545082649185',
      },
      messageAttributes: {},
      md5OfBody: '098f6bcd4621d373cade4e832627b4f6',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:rollouts-wakeups',
      awsRegion: 'us-east-1',
    })),
  };
}

/** A Lambda Function URL request (payload format 2.0). */
export function functionUrlEvent(
  method: string,
  path: string,
  body: string,
  headers: Record<string, string> = {},
  base64 = false,
) {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: {
      'content-type': 'application/json',
      host: 'abcdefg.lambda-url.us-east-1.on.aws',
      'user-agent': 'GitHub-Hookshot/abc',
      ...headers,
    },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'abcdefg',
      domainName: 'abcdefg.lambda-url.us-east-1.on.aws',
      domainPrefix: 'abcdefg',
      http: {
        method,
        path,
        protocol: 'HTTP/1.1',
        sourceIp: '140.82.115.1',
        userAgent: 'GitHub-Hookshot/abc',
      },
      requestId: 'a1b2c3',
      routeKey: '$default',
      stage: '$default',
      time: '25/Nov/2026:22:00:00 +0000',
      timeEpoch: 1764108000000,
    },
    ...(body ? { body: base64 ? Buffer.from(body).toString('base64') : body } : {}),
    isBase64Encoded: base64,
  };
}
