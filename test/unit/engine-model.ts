/**
 * A model cluster for engine tests: applies the engine's actions to two Deployments and a weight,
 * with pods that become available when the test says so. It is the engine's counterpart in
 * unit tests only; integration tests run against the real API server.
 */
import { decide } from '../../lib/core/engine/decide.js';
import type {
  Action,
  Command,
  Decision,
  DeploymentObservation,
  Observation,
  RolloutStatus,
} from '../../lib/core/engine/types.js';
import type { Rollout } from '../../lib/core/model/rollout.js';

export function deployment(image: string, replicas: number, available = replicas): DeploymentObservation {
  return {
    image,
    replicas,
    generation: 1,
    observedGeneration: 1,
    statusReplicas: replicas,
    updatedReplicas: replicas,
    availableReplicas: available,
  };
}

export class ModelCluster {
  weight = 0;
  readonly weights: number[] = [];
  readonly events: string[] = [];
  stable: DeploymentObservation;
  canary: DeploymentObservation;
  /** When false, scaled or re-imaged Deployments wait for `settle()` before their pods are available. */
  autoSettle = true;

  constructor(stableImage: string, stableReplicas: number) {
    this.stable = deployment(stableImage, stableReplicas);
    this.canary = deployment(stableImage, 0);
  }

  observe(): Observation {
    return { stable: { ...this.stable }, canary: { ...this.canary } };
  }

  apply(actions: Action[]): void {
    for (const action of actions) {
      switch (action.type) {
        case 'setWeight':
          if (action.weight !== this.weight) this.weights.push(action.weight);
          this.weight = action.weight;
          break;
        case 'setCanaryImage':
          this.canary = this.change(this.canary, { image: action.image });
          break;
        case 'scaleCanary':
          this.canary = this.change(this.canary, { replicas: action.replicas });
          break;
        case 'setStableImage':
          this.stable = this.change(this.stable, { image: action.image });
          break;
        case 'emit':
          this.events.push(action.event.type);
          break;
      }
    }
  }

  settle(): void {
    this.canary = deployment(this.canary.image as string, this.canary.replicas);
    this.stable = deployment(this.stable.image as string, this.stable.replicas);
  }

  private change(
    current: DeploymentObservation,
    changes: Partial<DeploymentObservation>,
  ): DeploymentObservation {
    const next = { ...current, ...changes };
    if (next.image === current.image && next.replicas === current.replicas) return current;
    if (this.autoSettle) return deployment(next.image as string, next.replicas);
    const imageChanged = next.image !== current.image;
    return {
      ...next,
      generation: current.generation + 1,
      observedGeneration: current.generation + 1,
      updatedReplicas: imageChanged ? 0 : Math.min(current.updatedReplicas, next.replicas),
      availableReplicas: Math.min(current.availableReplicas, next.replicas),
      statusReplicas: Math.min(current.statusReplicas, next.replicas),
    };
  }
}

/** Runs the engine against the model, the way the runner does: observe, decide, act. */
export class Driver {
  now = Date.parse('2026-01-01T00:00:00Z');
  last!: Decision;
  constructor(
    readonly rollout: Rollout,
    public status: RolloutStatus,
    readonly cluster: ModelCluster,
  ) {}

  pass(command: Command | null = null): Decision {
    this.last = decide(this.rollout, this.status, this.cluster.observe(), command, this.now);
    this.cluster.apply(this.last.actions);
    this.status = this.last.status;
    return this.last;
  }

  advance(seconds: number): this {
    this.now += seconds * 1000;
    return this;
  }
}
