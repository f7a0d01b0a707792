/**
 * The cloudWatch provider against a stubbed CloudWatch (no local server exists): the exact
 * GetMetricData requests, every page read, and results with AWS's casing as Argo's conditions use
 * them. Response shapes follow GetMetricData's documented output as the SDK deserializes it.
 */
import { beforeEach, describe, expect, it } from '@jest/globals';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/nested-clients/sts';
import { mockClient } from 'aws-sdk-client-mock';
import { createProviders } from '../../lib/adapters/metrics/registry.js';
import type { Result } from '../../lib/core/result.js';

const NOW = new Date('2026-11-26T10:00:00.000Z');
const cloudWatch = mockClient(CloudWatchClient);
const sts = mockClient(STSClient);
const clients: { region?: string }[] = [];
const providers = createProviders({
  awsCredentials: async () => ({ accessKeyId: 'AKIDRUNNER', secretAccessKey: 'runner-secret' }),
  cloudWatchClient: (config) => {
    clients.push({ region: config.region });
    return new CloudWatchClient({ region: config.region ?? 'eu-west-1', credentials: config.credentials });
  },
});
const measure = (cloudWatchBlock: Record<string, unknown>, timeoutMs = 5000) =>
  providers.measure({ cloudWatch: cloudWatchBlock }, { now: NOW, timeoutMs });

function failure(result: Result<unknown, string>): string {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result.value)}`);
  return result.error;
}

/** Argo's documented example: the 5xx rate of an ALB target group as a metric math expression. */
const errorRate = {
  interval: '5m',
  metricDataQueries: [
    {
      id: 'rate',
      expression: 'errors / requests',
    },
    {
      id: 'errors',
      metricStat: {
        metric: {
          namespace: 'AWS/ApplicationELB',
          metricName: 'HTTPCode_Target_5XX_Count',
          dimensions: [{ name: 'LoadBalancer', value: 'app/my-alb/50dc6c495c0c9188' }],
        },
        period: 60,
        stat: 'Sum',
        unit: 'Count',
      },
      returnData: false,
    },
    {
      id: 'requests',
      metricStat: {
        metric: {
          namespace: 'AWS/ApplicationELB',
          metricName: 'RequestCount',
          dimensions: [{ name: 'LoadBalancer', value: 'app/my-alb/50dc6c495c0c9188' }],
        },
        period: '60',
        stat: 'Sum',
      },
      returnData: false,
    },
  ],
};

const minute = (n: number) => new Date(NOW.getTime() - n * 60_000);

beforeEach(() => {
  cloudWatch.reset();
  sts.reset();
  clients.length = 0;
});

describe('the cloudWatch provider', () => {
  it('sends GetMetricData for the last interval with the queries in AWS casing, and keeps that casing', async () => {
    cloudWatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        {
          Id: 'rate',
          Label: 'rate',
          Timestamps: [minute(1), minute(2)],
          Values: [0.01, 0.002],
          StatusCode: 'Complete',
          Messages: [],
        },
      ],
      Messages: [],
    });
    const result = await measure(errorRate);
    expect(cloudWatch.commandCalls(GetMetricDataCommand).map((call) => call.args[0].input)).toEqual([
      {
        StartTime: minute(5),
        EndTime: NOW,
        MetricDataQueries: [
          { Id: 'rate', Expression: 'errors / requests' },
          {
            Id: 'errors',
            MetricStat: {
              Metric: {
                Namespace: 'AWS/ApplicationELB',
                MetricName: 'HTTPCode_Target_5XX_Count',
                Dimensions: [{ Name: 'LoadBalancer', Value: 'app/my-alb/50dc6c495c0c9188' }],
              },
              Period: 60,
              Stat: 'Sum',
              Unit: 'Count',
            },
            ReturnData: false,
          },
          {
            Id: 'requests',
            MetricStat: {
              Metric: {
                Namespace: 'AWS/ApplicationELB',
                MetricName: 'RequestCount',
                Dimensions: [{ Name: 'LoadBalancer', Value: 'app/my-alb/50dc6c495c0c9188' }],
              },
              Period: 60,
              Stat: 'Sum',
            },
            ReturnData: false,
          },
        ],
        NextToken: undefined,
      },
    ]);
    expect(result).toEqual({
      ok: true,
      value: {
        value: [
          {
            Id: 'rate',
            Label: 'rate',
            Timestamps: [minute(1).toISOString(), minute(2).toISOString()],
            Values: [0.01, 0.002],
            StatusCode: 'Complete',
            Messages: [],
          },
        ],
      },
    });
  });

  it('reads every page (NextToken) and joins each query’s values; the interval defaults to 5m', async () => {
    const block = { metricDataQueries: [errorRate.metricDataQueries[1]] };
    cloudWatch
      .on(GetMetricDataCommand, { NextToken: undefined })
      .resolves({
        MetricDataResults: [
          { Id: 'errors', Label: 'errors', Timestamps: [minute(1)], Values: [3], StatusCode: 'PartialData' },
        ],
        NextToken: 'page-2',
      })
      .on(GetMetricDataCommand, { NextToken: 'page-2' })
      .resolves({
        MetricDataResults: [
          { Id: 'errors', Label: 'errors', Timestamps: [minute(2)], Values: [4], StatusCode: 'Complete' },
        ],
      });
    const result = await measure(block);
    const calls = cloudWatch.commandCalls(GetMetricDataCommand).map((call) => call.args[0].input);
    expect(calls.map((input) => input.NextToken)).toEqual([undefined, 'page-2']);
    expect(calls[0]?.StartTime).toEqual(minute(5));
    expect(result).toEqual({
      ok: true,
      value: {
        value: [
          {
            Id: 'errors',
            Label: 'errors',
            Timestamps: [minute(1).toISOString(), minute(2).toISOString()],
            Values: [3, 4],
            StatusCode: 'Complete',
            Messages: [],
          },
        ],
      },
    });
  });

  it('keeps PartialData for conditions to see when AWS has no more pages to give', async () => {
    cloudWatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        {
          Id: 'errors',
          Values: [1],
          Timestamps: [minute(1)],
          StatusCode: 'PartialData',
          Messages: [{ Code: 'MaxQueryTimeRangeExceed', Value: 'Maximum Query Time Range Exceeded' }],
        },
      ],
    });
    const result = await measure({ metricDataQueries: [errorRate.metricDataQueries[1]] });
    expect(result.ok && (result.value.value as { StatusCode: string }[])[0]?.StatusCode).toBe('PartialData');
  });

  it('fails a query CloudWatch answered Forbidden or InternalError, naming it', async () => {
    cloudWatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        {
          Id: 'errors',
          Values: [],
          Timestamps: [],
          StatusCode: 'Forbidden',
          Messages: [{ Code: 'Forbidden', Value: 'no access' }],
        },
      ],
    });
    expect(failure(await measure({ metricDataQueries: [errorRate.metricDataQueries[1]] }))).toBe(
      'CloudWatch: query errors ended Forbidden (Forbidden: no access)',
    );
  });

  it('stops after a bounded number of pages', async () => {
    cloudWatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [], NextToken: 'again' });
    expect(failure(await measure({ metricDataQueries: [errorRate.metricDataQueries[1]] }))).toBe(
      'CloudWatch: GetMetricData has more than 10 pages; narrow the interval or the queries',
    );
    expect(cloudWatch.commandCalls(GetMetricDataCommand)).toHaveLength(10);
  });

  it('returns an AWS error as a message', async () => {
    cloudWatch
      .on(GetMetricDataCommand)
      .rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDenied' }));
    expect(
      failure(await measure({ region: 'us-west-2', metricDataQueries: [errorRate.metricDataQueries[1]] })),
    ).toBe('CloudWatch in us-west-2: GetMetricData failed: AccessDenied: User is not authorized');
  });

  it('queries the block’s region as the role it names, assumed with the runner’s credentials', async () => {
    const roleArn = 'arn:aws:iam::210987654321:role/metrics-reader';
    sts.on(AssumeRoleCommand).resolves({
      Credentials: {
        AccessKeyId: 'AKIDASSUMED',
        SecretAccessKey: 'assumed-secret',
        SessionToken: 'token',
        Expiration: new Date(NOW.getTime() + 3600_000),
      },
    });
    cloudWatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    const block = { region: 'us-west-2', roleArn, metricDataQueries: [errorRate.metricDataQueries[1]] };
    expect(await measure(block)).toEqual({ ok: true, value: { value: [] } });
    expect(await measure(block)).toEqual({ ok: true, value: { value: [] } });
    expect(clients).toEqual([{ region: 'us-west-2' }]);
    // The stubbed send never signs, so resolve the client's credentials as signing would.
    const client = cloudWatch.commandCalls(GetMetricDataCommand)[0]?.thisValue as CloudWatchClient;
    expect(await client.config.credentials()).toMatchObject({ accessKeyId: 'AKIDASSUMED' });
    expect(await client.config.credentials()).toMatchObject({ accessKeyId: 'AKIDASSUMED' });
    const assumed = sts.commandCalls(AssumeRoleCommand);
    expect(assumed).toHaveLength(1);
    expect(assumed[0]?.args[0].input).toMatchObject({
      RoleArn: roleArn,
      RoleSessionName: 'serverless-rollouts-analysis',
    });
  });

  it('validates the block with Argo’s field names', async () => {
    const message = failure(
      await measure({
        interval: 'soon',
        metricDataQueries: [{ id: 'Bad', expression: 'x', metricStat: {} }],
      }),
    );
    expect(message).toContain('cloudWatch.interval: invalid duration');
    expect(message).toContain('cloudWatch.metricDataQueries.0.id: must start with a lowercase letter');
    expect(cloudWatch.commandCalls(GetMetricDataCommand)).toHaveLength(0);
  });
});
