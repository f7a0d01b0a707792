import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';

describe('the test runtime', () => {
  it('is the Node major the Lambda functions run on (nodejs24.x), from the project-local node package', () => {
    expect(process.versions.node.split('.')[0]).toBe('24');
    const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
    expect(lock.packages['node_modules/node'].version).toMatch(/^24\./);
  });
});
