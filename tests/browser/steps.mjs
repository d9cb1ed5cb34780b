// Browser-test steps that build on each other (node:test): once one fails, the rest are
// skipped (not left to time out), and the page as it was at the failure is kept as
// FAILED.png in the screenshot directory.
import { join } from 'node:path';
import { test } from 'node:test';

// step(name, fn) for a test file whose page is made in before(): `page()` returns it.
export function stepper(shots, page) {
  let failed = false;
  return function step(name, fn) {
    test(name, async (t) => {
      if (failed) {
        t.skip('an earlier step failed');
        return;
      }
      try {
        await fn();
      } catch (e) {
        failed = true;
        await page().screenshot({ path: join(shots, 'FAILED.png'), fullPage: true }).catch(() => {});
        throw e;
      }
    });
  };
}
