/**
 * A stand-in for the AWS services with no local server (Secrets Manager, EventBridge, SQS), for
 * processes the test cannot mock in-process, such as a bundled handler in its own `node`. It speaks
 * their JSON protocols (the operation in X-Amz-Target), records every request, and answers success.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AwsRequest {
  /** e.g. `AWSEvents.PutEvents`, `AmazonSQS.SendMessage`, `secretsmanager.GetSecretValue`. */
  target: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the JSON as the SDK sent it
  body: any;
}

export interface AwsStub {
  endpoint: string;
  requests: AwsRequest[];
  close(): Promise<void>;
}

export async function startAwsStub(secretString: string): Promise<AwsStub> {
  const requests: AwsRequest[] = [];
  const answer = (request: AwsRequest): unknown => {
    switch (request.target) {
      case 'secretsmanager.GetSecretValue':
        return { ARN: request.body.SecretId, Name: 'webhooks', SecretString: secretString };
      case 'AWSEvents.PutEvents':
        return {
          FailedEntryCount: 0,
          Entries: request.body.Entries.map((_: unknown, i: number) => ({ EventId: `event-${i}` })),
        };
      case 'AmazonSQS.SendMessage':
        // The SDK checks the body's MD5 against this.
        return {
          MessageId: `message-${requests.length}`,
          MD5OfMessageBody: createHash('md5').update(request.body.MessageBody).digest('hex'),
        };
      default:
        return undefined;
    }
  };
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk) => (text += chunk));
    req.on('end', () => {
      const request = { target: String(req.headers['x-amz-target']), body: JSON.parse(text || '{}') };
      requests.push(request);
      const body = answer(request);
      res.writeHead(body === undefined ? 400 : 200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify(body ?? { __type: 'UnknownOperationException', message: request.target }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
