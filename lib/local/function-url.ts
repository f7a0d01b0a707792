/** Serves a Lambda Function URL handler on loopback: each HTTP request becomes the Function URL event AWS would send. */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';

export type FunctionUrlHandler = (
  event: unknown,
  context: unknown,
) => Promise<{ statusCode: number; headers?: Record<string, string>; body?: string }>;

const LIMIT_BYTES = 6 * 1024 * 1024;

export function toFunctionUrlEvent(
  request: IncomingMessage,
  body: Buffer,
  now = new Date(),
): Record<string, unknown> {
  // The request target as sent, split at its query: parsing it as a URL would throw on some
  // targets and would read `//host/path` as a host, where a Function URL keeps the raw path.
  const target = request.url ?? '/';
  const question = target.indexOf('?');
  const path = question < 0 ? target : target.slice(0, question);
  const query = question < 0 ? '' : target.slice(question + 1);
  const headers = Object.fromEntries(
    Object.entries(request.headers).map(([name, value]) => [
      name,
      Array.isArray(value) ? value.join(',') : (value ?? ''),
    ]),
  );
  const text = body.toString('utf8');
  const binary = !Buffer.from(text, 'utf8').equals(body);
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: query,
    headers,
    ...(query ? { queryStringParameters: Object.fromEntries(new URLSearchParams(query)) } : {}),
    requestContext: {
      accountId: 'anonymous',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method: request.method ?? 'GET',
        path,
        protocol: 'HTTP/1.1',
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length ? { body: binary ? body.toString('base64') : text } : {}),
    isBase64Encoded: binary,
  };
}

export function serveFunctionUrl(
  handler: FunctionUrlHandler,
  port: number,
  context: unknown,
): Promise<Server> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // Like the Function URL front end: oversized payloads never reach the function.
      if (size <= LIMIT_BYTES) chunks.push(chunk);
    });
    request.on('end', () => {
      if (size > LIMIT_BYTES) {
        response
          .writeHead(413, { 'content-type': 'application/json' })
          .end(JSON.stringify({ message: 'Request Entity Too Large' }));
        return;
      }
      handler(toFunctionUrlEvent(request, Buffer.concat(chunks)), context)
        .then((result) => {
          response.writeHead(result.statusCode, result.headers ?? {});
          response.end(result.body ?? '');
        })
        .catch((error: unknown) => {
          console.error('webhook handler failed', error);
          response
            .writeHead(500, { 'content-type': 'application/json' })
            .end(JSON.stringify({ message: 'internal error' }));
        });
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}
