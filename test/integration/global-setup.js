// Jest loads global setup outside its module mapper, so the TypeScript goes through tsx here;
// teardown unregisters it so nothing keeps Jest alive.
import { register } from 'tsx/esm/api';

export default async function globalSetup() {
  const unregister = register();
  globalThis.__unregisterTsx__ = unregister;
  const { setUpSandbox } = await import('./sandbox-setup.ts');
  await setUpSandbox();
}
