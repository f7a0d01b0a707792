import { statusMessage, type KubeResponse } from './http.js';

/** An API call that failed: which call, on what, and what the API server said. */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly action: string,
    readonly detail: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(`${action}: HTTP ${status}: ${detail}`);
    this.name = 'KubeApiError';
  }

  static from(action: string, response: KubeResponse): KubeApiError {
    const header = response.headers['retry-after'];
    const retryAfter = Number(Array.isArray(header) ? header[0] : header);
    return new KubeApiError(
      response.status,
      action,
      statusMessage(response),
      Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
    );
  }
}

/** The Rollout does not fit what is in the cluster: nothing is written until it is fixed. */
export class InvalidReferenceError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'InvalidReferenceError';
  }
}
