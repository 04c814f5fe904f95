// Kept only for tests/integration/purge.test.mjs, which another change is editing: the
// statistics helpers are tests/lib/stats.mjs. Remove once purge.test.mjs imports it.
export * from '../../lib/stats.mjs';
