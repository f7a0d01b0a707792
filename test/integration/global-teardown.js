export default async function globalTeardown() {
  const { tearDownSandbox } = await import('./sandbox-setup.ts');
  await tearDownSandbox();
  await globalThis.__unregisterTsx__?.();
}
