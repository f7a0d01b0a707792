/**
 * The `cloudWatch` provider: GetMetricData over the last `interval` (default 5m, as Argo), every
 * page of it. The value keeps AWS's casing (`result[0].Values`, `result[0].StatusCode`) so Argo's
 * conditions read the same; timestamps become ISO strings so a measurement stores as JSON.
 * Ours beyond Argo: optional `region` and `roleArn` (a role to assume, e.g. another account's).
 */
import {
  CloudWatchClient,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
  type MetricDataQuery,
  type MetricDataResult,
  type StandardUnit,
} from '@aws-sdk/client-cloudwatch';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { z } from 'zod';
import type { Measurement, MetricProvider } from '../../core/analysis/provider.js';
import { parseGoDuration } from '../../core/analysis/duration.js';
import { err, ok, type Result } from '../../core/result.js';
import type { AwsCredentials } from './aws-credentials.js';
import { parseBlock } from './block.js';
import { abortReason, deadline } from './http.js';

const DEFAULT_INTERVAL_MS = 5 * 60_000;
/** A measurement that needs more pages than this reads far more than a condition can use. */
export const MAX_PAGES = 10;

/** Kubernetes' IntOrString for periods: 60 or "60". */
const seconds = z
  .union([z.number().int().positive(), z.string().regex(/^\d+$/, 'must be a whole number of seconds')])
  .transform(Number);

const querySchema = z
  .object({
    id: z
      .string()
      .regex(
        /^[a-z][a-zA-Z0-9_]*$/,
        'must start with a lowercase letter and hold only letters, digits and _',
      ),
    expression: z.string().min(1).optional(),
    label: z.string().optional(),
    metricStat: z
      .object({
        metric: z
          .object({
            namespace: z.string().min(1).optional(),
            metricName: z.string().min(1),
            dimensions: z.array(z.object({ name: z.string().min(1), value: z.string() }).strict()).optional(),
          })
          .strict(),
        period: seconds,
        stat: z.string().min(1),
        unit: z.string().optional(),
      })
      .strict()
      .optional(),
    period: seconds.optional(),
    returnData: z.boolean().optional(),
  })
  .strict()
  .refine((query) => (query.expression === undefined) !== (query.metricStat === undefined), {
    message: 'set exactly one of expression and metricStat',
  });

export const cloudWatchSchema = z
  .object({
    /** Argo's DurationString: a Go duration such as 5m. */
    interval: z
      .string()
      .optional()
      .transform((value, context) => {
        if (value === undefined) return DEFAULT_INTERVAL_MS;
        const parsed = parseGoDuration(value);
        if (parsed.ok && parsed.value > 0) return parsed.value;
        context.addIssue({ code: 'custom', message: parsed.ok ? 'must be more than 0s' : parsed.error });
        return z.NEVER;
      }),
    metricDataQueries: z.array(querySchema).min(1, 'list at least one query'),
    region: z.string().min(1).optional(),
    roleArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\//, 'must be an IAM role ARN')
      .optional(),
  })
  .strict();

export type CloudWatchBlock = z.infer<typeof cloudWatchSchema>;

export type CloudWatchClientFactory = (config: {
  region?: string;
  credentials: AwsCredentialIdentityProvider;
}) => CloudWatchClient;

/** What conditions see for one query: AWS's fields and casing. */
export interface CloudWatchSeries {
  Id: string;
  Label?: string;
  Timestamps: string[];
  Values: number[];
  StatusCode?: string;
  Messages: { Code?: string; Value?: string }[];
}

export class CloudWatchProvider implements MetricProvider {
  private readonly clients = new Map<string, CloudWatchClient>();

  constructor(
    private readonly credentials: AwsCredentials,
    private readonly createClient: CloudWatchClientFactory = (config) => new CloudWatchClient(config),
  ) {}

  async measure(
    provider: Record<string, unknown>,
    options: { now: Date; timeoutMs: number; signal?: AbortSignal },
  ): Promise<Result<Measurement, string>> {
    const parsed = parseBlock('cloudWatch', cloudWatchSchema, provider);
    if (!parsed.ok) return parsed;
    const block = parsed.value;
    const signal = deadline(options.timeoutMs, options.signal);
    const input: GetMetricDataCommandInput = {
      StartTime: new Date(options.now.getTime() - block.interval),
      EndTime: options.now,
      MetricDataQueries: block.metricDataQueries.map(toQuery),
    };
    const where = `CloudWatch${block.region ? ` in ${block.region}` : ''}${block.roleArn ? ` as ${block.roleArn}` : ''}`;
    const pages: MetricDataResult[][] = [];
    try {
      const client = this.client(block);
      let nextToken: string | undefined;
      do {
        if (pages.length === MAX_PAGES)
          return err(
            `${where}: GetMetricData has more than ${MAX_PAGES} pages; narrow the interval or the queries`,
          );
        const output = await client.send(new GetMetricDataCommand({ ...input, NextToken: nextToken }), {
          abortSignal: signal,
        });
        pages.push(output.MetricDataResults ?? []);
        nextToken = output.NextToken;
      } while (nextToken);
    } catch (error) {
      if (signal.aborted) return err(`${where}: GetMetricData ${abortReason(signal, options.timeoutMs)}`);
      const name = (error as Error).name;
      return err(`${where}: GetMetricData failed: ${name}: ${(error as Error).message}`);
    }
    const series = mergePages(pages);
    const failed = series.find((one) => one.StatusCode === 'Forbidden' || one.StatusCode === 'InternalError');
    if (failed) {
      const messages = failed.Messages.map((m) => `${m.Code}: ${m.Value}`).join('; ');
      return err(
        `${where}: query ${failed.Id} ended ${failed.StatusCode}${messages ? ` (${messages})` : ''}`,
      );
    }
    return ok({ value: series });
  }

  private client(block: CloudWatchBlock): CloudWatchClient {
    const key = `${block.region ?? ''}\n${block.roleArn ?? ''}`;
    let client = this.clients.get(key);
    if (!client) {
      client = this.createClient({
        ...(block.region ? { region: block.region } : {}),
        credentials: this.credentials.for({ roleArn: block.roleArn }),
      });
      this.clients.set(key, client);
    }
    return client;
  }
}

function toQuery(query: z.infer<typeof querySchema>): MetricDataQuery {
  const stat = query.metricStat;
  return {
    Id: query.id,
    ...(query.expression !== undefined ? { Expression: query.expression } : {}),
    ...(query.label !== undefined ? { Label: query.label } : {}),
    ...(stat
      ? {
          MetricStat: {
            Metric: {
              ...(stat.metric.namespace !== undefined ? { Namespace: stat.metric.namespace } : {}),
              MetricName: stat.metric.metricName,
              ...(stat.metric.dimensions
                ? { Dimensions: stat.metric.dimensions.map((d) => ({ Name: d.name, Value: d.value })) }
                : {}),
            },
            Period: stat.period,
            Stat: stat.stat,
            ...(stat.unit !== undefined ? { Unit: stat.unit as StandardUnit } : {}),
          },
        }
      : {}),
    ...(query.period !== undefined ? { Period: query.period } : {}),
    ...(query.returnData !== undefined ? { ReturnData: query.returnData } : {}),
  };
}

/**
 * One series per query id across pages: values and timestamps in the order AWS sent them (newest
 * first by default), the status of the last page that mentioned the query.
 */
export function mergePages(pages: MetricDataResult[][]): CloudWatchSeries[] {
  const byId = new Map<string, CloudWatchSeries>();
  for (const result of pages.flat()) {
    const id = result.Id ?? '';
    const series = byId.get(id) ?? { Id: id, Timestamps: [], Values: [], Messages: [] };
    if (series.Label === undefined && result.Label !== undefined) series.Label = result.Label;
    series.Timestamps.push(...(result.Timestamps ?? []).map((t) => new Date(t).toISOString()));
    series.Values.push(...(result.Values ?? []));
    if (result.StatusCode !== undefined) series.StatusCode = result.StatusCode;
    series.Messages.push(...(result.Messages ?? []).map((m) => ({ Code: m.Code, Value: m.Value })));
    byId.set(id, series);
  }
  return [...byId.values()];
}
