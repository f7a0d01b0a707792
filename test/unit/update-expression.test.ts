import { describe, expect, it } from '@jest/globals';
import { buildUpdate, conditionalUpdate, increment } from '../../lib/adapters/dynamodb/update-expression.js';

describe('DynamoDB update expressions', () => {
  it('set, increment, remove and add each attribute through a #name and a :u_ value', () => {
    expect(
      buildUpdate({
        set: { status: { phase: 'Healthy' }, version: increment(), dueAt: 5 },
        remove: ['leaseOwner', 'lastError'],
        add: { commandSeq: 1 },
      }),
    ).toEqual({
      UpdateExpression:
        'SET #status = :u_status, #version = #version + :u_version, #dueAt = :u_dueAt REMOVE #leaseOwner, #lastError ADD #commandSeq :u_commandSeq',
      ExpressionAttributeNames: {
        '#status': 'status',
        '#version': 'version',
        '#dueAt': 'dueAt',
        '#leaseOwner': 'leaseOwner',
        '#lastError': 'lastError',
        '#commandSeq': 'commandSeq',
      },
      ExpressionAttributeValues: {
        ':u_status': { phase: 'Healthy' },
        ':u_version': 1,
        ':u_dueAt': 5,
        ':u_commandSeq': 1,
      },
    });
  });

  it('leave out empty clauses, and values when only removing', () => {
    expect(buildUpdate({ set: {}, remove: ['dueAt'] })).toEqual({
      UpdateExpression: 'REMOVE #dueAt',
      ExpressionAttributeNames: { '#dueAt': 'dueAt' },
    });
  });

  it('merge a condition with its own names and values', () => {
    expect(
      conditionalUpdate(
        { set: { leaseUntil: 9 } },
        { expression: 'leaseOwner = :owner', values: { ':owner': 'runner-a' } },
      ),
    ).toEqual({
      UpdateExpression: 'SET #leaseUntil = :u_leaseUntil',
      ConditionExpression: 'leaseOwner = :owner',
      ExpressionAttributeNames: { '#leaseUntil': 'leaseUntil' },
      ExpressionAttributeValues: { ':u_leaseUntil': 9, ':owner': 'runner-a' },
    });
  });

  it.each([
    [{}, 'an update must set, remove or add something'],
    [{ set: { dueAt: undefined } }, 'SET dueAt to undefined: use remove'],
    [{ set: { dueAt: 1 }, remove: ['dueAt'] }, "attribute 'dueAt' appears twice in one update"],
    [{ set: { 'a.b': 1 } }, "not a plain attribute name: 'a.b'"],
    [{ remove: ['x = :y'] }, "not a plain attribute name: 'x = :y'"],
  ])('refuse %p', (parts, message) => {
    expect(() => buildUpdate(parts)).toThrow(message);
  });

  it("refuse a condition value that could clash with the update's", () => {
    expect(() =>
      conditionalUpdate({ set: { a: 1 } }, { expression: 'a = :u_a', values: { ':u_a': 2 } }),
    ).toThrow("condition value :u_a uses the update's placeholder prefix");
  });
});
