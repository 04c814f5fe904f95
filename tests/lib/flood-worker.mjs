// A worker thread that runs a flood of raw uploads (http.mjs rawUpload) away from the test's
// own event loop, so that the real client's latencies are not those of the flood's writes
// (load.mjs floodInWorker). workerData: { port, jobs: [rawUpload options], parallel }. Posts
// back the results, in order.
import { parentPort, workerData } from 'node:worker_threads';
import { rawUpload } from './http.mjs';
import { pool } from './load.mjs';

const { port, jobs, parallel } = workerData;
const results = await pool(jobs, parallel, (job) => rawUpload(port, job));
parentPort.postMessage(results.map(({ status, sent, ms, answeredBeforeBody, error }) => ({ status, sent, ms, answeredBeforeBody, error })));
