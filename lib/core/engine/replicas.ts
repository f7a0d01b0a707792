/** How many canary pods a weight needs, and how much weight the pods that are there can carry. */
import type { DeploymentObservation, PodWait } from './types.js';

export function canaryPodsFor(weight: number, stableReplicas: number): number {
  return Math.max(1, Math.ceil((weight * Math.max(1, stableReplicas)) / 100));
}

/** Available pods running `image`; pods of an older template still in the Deployment do not count. */
export function availablePodsWithImage(deployment: DeploymentObservation, image: string | undefined): number {
  if (!image || deployment.image !== image || deployment.observedGeneration < deployment.generation) return 0;
  const oldPods = Math.max(0, deployment.statusReplicas - deployment.updatedReplicas);
  return Math.max(0, Math.min(deployment.updatedReplicas, deployment.availableReplicas - oldPods));
}

/** The highest weight, up to `desired`, whose pods are all available. */
export function weightAllowedBy(availablePods: number, desired: number, stableReplicas: number): number {
  if (desired === 0 || availablePods <= 0) return 0;
  if (availablePods >= canaryPodsFor(desired, stableReplicas)) return desired;
  return Math.min(desired, Math.floor((availablePods * 100) / Math.max(1, stableReplicas)));
}

export function isRolledOut(deployment: DeploymentObservation, image: string): boolean {
  return (
    deployment.image === image &&
    deployment.observedGeneration >= deployment.generation &&
    deployment.updatedReplicas >= deployment.replicas &&
    deployment.statusReplicas === deployment.updatedReplicas &&
    deployment.availableReplicas >= deployment.replicas
  );
}

/** Whether the Deployment a pass waited for (`wait.deployment`) now has the pods it waited for. */
export function podsReady(wait: PodWait, deployment: DeploymentObservation): boolean {
  return wait.deployment === 'canary'
    ? availablePodsWithImage(deployment, wait.image) >= wait.availablePods
    : isRolledOut(deployment, wait.image);
}
