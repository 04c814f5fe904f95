// Kept only for tests/integration/purge.test.mjs, which another change is editing: the
// service under test is tests/lib/service.mjs. Remove once purge.test.mjs imports it.
export * from './service.mjs';
